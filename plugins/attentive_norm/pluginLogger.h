// Logging for the plugin library: through the ILogger of the finder given to setLoggerFinder, else stderr.
#ifndef AN_DEPLOY_PLUGIN_LOGGER_H
#define AN_DEPLOY_PLUGIN_LOGGER_H

#include "NvInferRuntime.h"

#include <string>

namespace an_deploy
{
namespace plugin
{

void setPluginLoggerFinder(nvinfer1::ILoggerFinder* finder) noexcept;

//! Log `message` prefixed with the plugin name; never throws.
void logPluginMessage(nvinfer1::ILogger::Severity severity, std::string const& message) noexcept;

inline void logPluginError(std::string const& message) noexcept
{
    logPluginMessage(nvinfer1::ILogger::Severity::kERROR, message);
}

} // namespace plugin
} // namespace an_deploy

#endif // AN_DEPLOY_PLUGIN_LOGGER_H
