#include "progress_meter.hpp"

#include "human_units.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>

namespace cachestep::app {

namespace {
constexpr auto terminal_interval = std::chrono::milliseconds(500);
constexpr auto log_interval = std::chrono::seconds(5);  // CI logs: enough to show life, not a flood
}  // namespace

progress_meter::progress_meter(std::string label, std::uint64_t total_stored, std::function<reading()> sample,
                               bool enabled)
    : label_(std::move(label)), total_(total_stored), sample_(std::move(sample)), terminal_(::isatty(STDERR_FILENO) == 1)
{
    if (enabled) thread_ = std::thread([this] { run(); });
}

progress_meter::~progress_meter()
{
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

std::string progress_meter::line(double seconds) const
{
    const reading r = sample_();
    const double rate = static_cast<double>(r.stored_bytes) / std::max(seconds, 1e-3);
    std::string text = label_ + ": " + human_bytes(static_cast<double>(r.raw_bytes)) + " of files, " +
                       human_bytes(static_cast<double>(r.stored_bytes)) + " stored";
    if (total_ > 0) {
        char pct[32];
        std::snprintf(pct, sizeof pct, " (%.0f%%)", 100.0 * static_cast<double>(r.stored_bytes) / static_cast<double>(total_));
        text += pct;
    }
    text += ", " + human_bytes(rate) + "/s";
    if (total_ > 0 && rate > 0 && r.stored_bytes < total_) {
        char eta[32];
        std::snprintf(eta, sizeof eta, ", ETA %.0f s", static_cast<double>(total_ - r.stored_bytes) / rate);
        text += eta;
    }
    return text;
}

void progress_meter::run()
{
    const auto start = std::chrono::steady_clock::now();
    const auto interval = terminal_ ? std::chrono::duration_cast<std::chrono::milliseconds>(terminal_interval)
                                    : std::chrono::duration_cast<std::chrono::milliseconds>(log_interval);
    std::unique_lock lock(mutex_);
    bool printed = false;
    while (!wake_.wait_for(lock, interval, [&] { return stopping_; })) {
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (terminal_) std::cerr << "\r\033[K" << line(seconds) << std::flush;
        else std::cerr << line(seconds) << "\n";
        printed = true;
    }
    if (terminal_ && printed) std::cerr << "\r\033[K" << std::flush;
}

}  // namespace cachestep::app
