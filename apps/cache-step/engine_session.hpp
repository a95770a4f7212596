#pragma once
// Runs the engine for a command-line program: an io_context on one network thread, a client, and SIGINT /
// SIGTERM turned into client::cancel() (uploads then abort their multipart upload before the command exits).

#include <cachestep/engine/client.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_future.hpp>

#include <atomic>
#include <memory>
#include <thread>

namespace cachestep::app {

class engine_session {
public:
    // Refuses a bad configuration with the engine's error.
    static engine::result<std::unique_ptr<engine_session>> create(engine::client_config cfg);
    ~engine_session();

    engine::client& client() { return *client_; }

    // Runs one engine operation to completion from this (non-network) thread.
    template <class T>
    T run(boost::asio::awaitable<T> work)
    {
        return boost::asio::co_spawn(io_, std::move(work), boost::asio::use_future).get();
    }

    // The signal that cancelled the work, or 0.
    int signal_received() const { return signal_.load(); }

private:
    engine_session();
    boost::asio::io_context io_;
    boost::asio::signal_set signals_;
    std::shared_ptr<engine::client> client_;
    std::atomic<int> signal_{0};
    std::thread network_;
};

// 128 + signal, the shell's convention for "killed by signal".
inline int exit_code_for_signal(int signal)
{
    return 128 + signal;
}

}  // namespace cachestep::app
