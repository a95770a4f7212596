#pragma once
// Runs a blocking function (a source read, a sink write, a hash over a part) on a worker executor and resumes
// the calling coroutine on its own executor when it is done, so the network strand never blocks.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <type_traits>

namespace cachestep::engine::detail {

// g++ 12 coroutine bugs shape the code here (both seen under ASan, see DEVELOPERS.md "Compiler pitfalls"):
// - a braced temporary (T{...}) or a lambda with owning captures, written as an argument inside a co_await
//   expression, is destroyed twice;
// - a coroutine that moves out of one of its by-value parameters may move from the caller's object while
//   its own copy keeps owning the resource (use after free).
// So: name such objects before the co_await, and give coroutines references or trivially destructible
// values. run_blocking therefore takes the function by reference; it must outlive the co_await.
template <class F>
boost::asio::awaitable<std::invoke_result_t<F&>> run_blocking(boost::asio::any_io_executor worker, F& f)
{
    using R = std::invoke_result_t<F&>;
    auto call = [&f]() -> boost::asio::awaitable<R> { co_return f(); };
    return boost::asio::co_spawn(worker, call, boost::asio::use_awaitable);
}

}  // namespace cachestep::engine::detail
