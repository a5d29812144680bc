/*
 * One way for a plugin method to fail: a check throws PluginError (AN_PLUGIN_VALIDATE), and guarded() runs the
 * method body, catches whatever it throws, logs "<method>: <reason>" through the plugin logger and returns the
 * method's error value (-1 for TensorRT status codes, nullptr for objects). No exception leaves a noexcept
 * TensorRT method, and none of them aborts.
 */
#ifndef AN_DEPLOY_PLUGIN_ERRORS_H
#define AN_DEPLOY_PLUGIN_ERRORS_H

#include "pluginLogger.h"

#include <exception>
#include <stdexcept>
#include <string>

namespace an_deploy
{
namespace plugin
{

//! A rejected argument or state; its message is the reason that gets logged.
class PluginError : public std::runtime_error
{
public:
    explicit PluginError(std::string const& message)
        : std::runtime_error(message)
    {
    }
};

//! Throw PluginError(message) if `condition` is false. `message` is only built when the check fails.
#define AN_PLUGIN_VALIDATE(condition, message)                                                                        \
    do                                                                                                                 \
    {                                                                                                                  \
        if (!(condition))                                                                                              \
        {                                                                                                              \
            throw ::an_deploy::plugin::PluginError(message);                                                           \
        }                                                                                                              \
    } while (false)

//! Throw PluginError(reason) if `reason` (the result of a check helper) is not empty.
inline void throwIfError(std::string const& reason)
{
    if (!reason.empty())
    {
        throw PluginError(reason);
    }
}

//! Log an exception caught in `method` through the plugin logger; never throws.
inline void caughtError(char const* method, std::exception const& e) noexcept
{
    try
    {
        logPluginError(std::string(method) + ": " + e.what());
    }
    catch (...)
    {
        logPluginError("exception while reporting an error");
    }
}

//! `body()`, or `onError` after logging whatever it threw (see caughtError).
template <typename R, typename Body>
R guarded(char const* method, R onError, Body&& body) noexcept
{
    try
    {
        return body();
    }
    catch (std::exception const& e)
    {
        caughtError(method, e);
    }
    catch (...)
    {
        logPluginError(std::string(method) + ": unknown exception");
    }
    return onError;
}

} // namespace plugin
} // namespace an_deploy

#endif // AN_DEPLOY_PLUGIN_ERRORS_H
