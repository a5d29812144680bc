#include "pluginLogger.h"

#include <atomic>
#include <cstdio>

namespace an_deploy
{
namespace plugin
{
namespace
{
std::atomic<nvinfer1::ILoggerFinder*> gLoggerFinder{nullptr};
}

void setPluginLoggerFinder(nvinfer1::ILoggerFinder* finder) noexcept
{
    gLoggerFinder.store(finder);
}

void logPluginMessage(nvinfer1::ILogger::Severity severity, std::string const& message) noexcept
{
    try
    {
        std::string const text = "AttentiveNorm plugin: " + message;
        nvinfer1::ILoggerFinder* finder = gLoggerFinder.load();
        nvinfer1::ILogger* logger = finder != nullptr ? finder->findLogger() : nullptr;
        if (logger != nullptr)
        {
            logger->log(severity, text.c_str());
        }
        else
        {
            std::fprintf(stderr, "%s\n", text.c_str());
        }
    }
    catch (...)
    {
        std::fputs("AttentiveNorm plugin: failed to log a message\n", stderr);
    }
}

} // namespace plugin
} // namespace an_deploy
