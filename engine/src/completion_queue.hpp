#pragma once
// A queue that coroutines on one strand push results into and one coroutine waits on. A timer that never
// expires serves as the wake-up signal, so no experimental Asio API is needed. Not thread-safe by design:
// every push and pop happens on the same strand.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <deque>

namespace cachestep::engine::detail {

template <class T>
class completion_queue {
public:
    explicit completion_queue(boost::asio::any_io_executor ex) : signal_(ex) {}

    void push(T item)
    {
        items_.push_back(std::move(item));
        signal_.cancel();
    }

    boost::asio::awaitable<T> pop()
    {
        while (items_.empty()) {
            signal_.expires_at(boost::asio::steady_timer::time_point::max());
            co_await signal_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
        }
        T item = std::move(items_.front());
        items_.pop_front();
        co_return item;
    }

private:
    std::deque<T> items_;
    boost::asio::steady_timer signal_;
};

}  // namespace cachestep::engine::detail
