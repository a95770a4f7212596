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
        const timespec tick{1, 0};  // a safety net only: the destructor wakes us at once
        while (!stopping_) {
            const int sig = sigtimedwait(&set, nullptr, &tick);
            if (sig <= 0 || stopping_) continue;
            if (signal_.exchange(sig) == 0 && on_signal_) on_signal_(sig);
        }
    });
}

interrupt_watch::~interrupt_watch()
{
    // Wake the watcher now rather than at its next tick (a 200 ms tick once added ~0.1 s to every save and
    // restore): a SIGTERM aimed at this one thread, which takes it from sigtimedwait and sees stopping_.
    stopping_ = true;
    pthread_kill(watcher_.native_handle(), SIGTERM);
    watcher_.join();
}

}  // namespace cachestep::app
