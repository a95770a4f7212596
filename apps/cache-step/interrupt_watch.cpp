#include "interrupt_watch.hpp"

#include <pthread.h>
#include <signal.h>

#include <cerrno>
#include <ctime>

namespace cachestep::app {
namespace {

sigset_t interrupt_set()
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    return set;
}

}  // namespace

void block_interrupts()
{
    const sigset_t set = interrupt_set();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

interrupt_watch::interrupt_watch(std::function<void(int)> on_signal) : on_signal_(std::move(on_signal))
{
    block_interrupts();
    watcher_ = std::thread([this] {
        const sigset_t set = interrupt_set();
        const timespec tick{0, 200'000'000};  // wakes to notice stopping_
        while (!stopping_) {
            const int sig = sigtimedwait(&set, nullptr, &tick);
            if (sig <= 0) continue;
            if (signal_.exchange(sig) == 0 && on_signal_) on_signal_(sig);
        }
    });
}

interrupt_watch::~interrupt_watch()
{
    stopping_ = true;
    watcher_.join();
}

}  // namespace cachestep::app
