#include "engine_session.hpp"

#include <csignal>

namespace cachestep::app {

engine_session::engine_session() : signals_(io_, SIGINT, SIGTERM) {}

engine::result<std::unique_ptr<engine_session>> engine_session::create(engine::client_config cfg)
{
    std::unique_ptr<engine_session> s(new engine_session());
    auto c = engine::client::create(s->io_.get_executor(), std::move(cfg));
    if (!c) return c.error();
    s->client_ = std::move(*c);
    s->signals_.async_wait([p = s.get()](boost::system::error_code ec, int signal) {
        if (ec) return;
        p->signal_ = signal;
        p->client_->cancel();
    });
    s->network_ = std::thread([p = s.get()] { p->io_.run(); });
    return s;
}

engine_session::~engine_session()
{
    boost::system::error_code ignored;
    signals_.cancel(ignored);
    io_.stop();
    if (network_.joinable()) network_.join();
}

}  // namespace cachestep::app
