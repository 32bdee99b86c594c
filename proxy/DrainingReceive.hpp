#pragma once
// Reading a socket the way haproxy does: a read that did not fill the buffer has
// drained the socket, so the next read waits for epoll to report new data instead of
// first trying a recv that fails with EAGAIN.
//
// Asio's epoll reactor keeps that state per socket ("try a read first", cleared when
// an operation reports done_and_exhausted and set again by the next readiness event),
// but its receive operation reports exhaustion only for 0-byte reads (EOF). A relay
// starts each read right after writing the request the answer is for, so that first
// try nearly always failed: 1.6 wasted recv per relayed query, about as many as the
// useful ones. DrainingReceiveOp is Asio's receive operation with one change: a short
// read reports exhaustion. Handler allocation, executor work and completion are
// Asio's own, and the flag is cleared inside the reactor's lock, together with the
// read that found the socket empty, as Asio does for EOF; data arriving after it is
// an edge epoll reports.
//
// This uses Asio internals (boost::asio::detail) as they are in Boost 1.81, the
// version Debian 12 ships; with any other version, or a reactor other than epoll,
// async_read_some is used instead.

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/version.hpp>

#if BOOST_VERSION == 108100 && defined(BOOST_ASIO_HAS_EPOLL) && !defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT)
#define UNIQGATE_DRAINING_RECEIVE 1
#include <boost/asio/detail/bind_handler.hpp>
#include <boost/asio/detail/fenced_block.hpp>
#include <boost/asio/detail/handler_alloc_helpers.hpp>
#include <boost/asio/detail/handler_cont_helpers.hpp>
#include <boost/asio/detail/handler_work.hpp>
#include <boost/asio/detail/reactor.hpp>
#include <boost/asio/detail/reactor_op.hpp>
#include <boost/asio/detail/socket_ops.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/query.hpp>
#else
#define UNIQGATE_DRAINING_RECEIVE 0
#endif

#include <memory>
#include <new>
#include <utility>

namespace uniqgate::proxy {

using StreamSocket = boost::asio::generic::stream_protocol::socket;

#if UNIQGATE_DRAINING_RECEIVE

namespace draining_detail {

namespace ad = boost::asio::detail;

// Where a read puts its bytes: a fixed buffer, or a target (FrameBuffer) whose space is
// taken only when the socket has data and handed back when it had none.
struct FixedSpace {
    boost::asio::mutable_buffer buffer;
    [[nodiscard]] boost::asio::mutable_buffer take() const noexcept { return buffer; }
    void unused() const noexcept {}
};

template <typename Target>
struct TargetSpace {
    Target* target;
    boost::asio::mutable_buffer take() const { return target->space_for_more(); }
    void unused() const noexcept { target->release_if_empty(); }
};

template <typename Space, typename Handler, typename IoExecutor>
class DrainingReceiveOp : public ad::reactor_op {
public:
    BOOST_ASIO_DEFINE_HANDLER_PTR(DrainingReceiveOp);

    DrainingReceiveOp(ad::socket_type socket, Space space, Handler& handler, const IoExecutor& io_executor)
        : ad::reactor_op(boost::system::error_code(), &DrainingReceiveOp::do_perform, &DrainingReceiveOp::do_complete),
          socket_(socket),
          space_(space),
          handler_(std::move(handler)),
          work_(handler_, io_executor) {}

    // Runs inside the reactor: it must not throw.
    static status do_perform(ad::reactor_op* base) {
        auto* op = static_cast<DrainingReceiveOp*>(base);
        boost::asio::mutable_buffer into;
        try {
            into = op->space_.take();
        } catch (const std::bad_alloc&) {
            op->ec_ = boost::asio::error::no_memory;
            return done;
        }
        if (!ad::socket_ops::non_blocking_recv1(op->socket_, into.data(), into.size(), 0, true, op->ec_,
                                                op->bytes_transferred_)) {
            op->space_.unused();
            return not_done;  // EAGAIN: wait for the readiness event
        }
        // Errors and EOF transfer 0 bytes: exhausted, as in Asio's own operation.
        return op->bytes_transferred_ < into.size() ? done_and_exhausted : done;
    }

    static void do_complete(void* owner, ad::operation* base, const boost::system::error_code& /*ec*/,
                            std::size_t /*bytes_transferred*/) {
        auto* op = static_cast<DrainingReceiveOp*>(base);
        ptr p = {std::addressof(op->handler_), op, op};
        ad::handler_work<Handler, IoExecutor> work(std::move(op->work_));
        // The handler is moved out before the operation's memory is freed: it may own it.
        ad::binder2<Handler, boost::system::error_code, std::size_t> handler(op->handler_, op->ec_,
                                                                             op->bytes_transferred_);
        p.h = std::addressof(handler.handler_);
        p.reset();
        if (owner != nullptr) {
            ad::fenced_block fence(ad::fenced_block::half);
            work.complete(handler, handler.handler_);
        }
    }

private:
    ad::socket_type socket_;
    Space space_;
    Handler handler_;
    ad::handler_work<Handler, IoExecutor> work_;
};

// basic_socket keeps its implementation protected; a member pointer named through a
// derived class reaches it without copying anything.
struct SocketAccess : StreamSocket {
    static auto& implementation(StreamSocket& socket) { return (socket.*(&SocketAccess::impl_)).get_implementation(); }
};

}  // namespace draining_detail

// Reads sockets of one event loop (it looks the loop's reactor up once).
class DrainingReceive {
public:
    explicit DrainingReceive(const StreamSocket::executor_type& loop)
        : reactor_(&boost::asio::use_service<draining_detail::ad::reactor>(
              boost::asio::query(loop, boost::asio::execution::context))) {}

    // As socket.async_read_some(buffer, token).
    template <typename Token>
    auto async_read_some(StreamSocket& socket, boost::asio::mutable_buffer buffer, Token&& token) {
        return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
            [this, &socket](auto handler, boost::asio::mutable_buffer into) {
                if (into.size() == 0) {
                    socket.async_read_some(into, std::move(handler));  // completes at once, as Asio does
                } else {
                    start(socket, std::move(handler), draining_detail::FixedSpace{into});
                }
            },
            token, buffer);
    }

    // Reads into `target`'s space_for_more(), taken only once the socket has data: while
    // the read waits, the target holds no storage (release_if_empty).
    template <typename Target, typename Token>
    auto async_read_into(StreamSocket& socket, Target& target, Token&& token) {
        return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
            [this, &socket, &target](auto handler) {
                target.release_if_empty();
                start(socket, std::move(handler), draining_detail::TargetSpace<Target>{&target});
            },
            token);
    }

private:
    template <typename Handler, typename Space>
    void start(StreamSocket& socket, Handler handler, Space space) {
        namespace ad = draining_detail::ad;
        // Per-operation cancellation keeps Asio's own path.
        if (boost::asio::get_associated_cancellation_slot(handler).is_connected()) {
            socket.async_read_some(space.take(), std::move(handler));
            return;
        }
        auto& impl = draining_detail::SocketAccess::implementation(socket);
        const bool is_continuation = boost_asio_handler_cont_helpers::is_continuation(handler);
        using Op = draining_detail::DrainingReceiveOp<Space, Handler, StreamSocket::executor_type>;
        typename Op::ptr p = {std::addressof(handler), Op::ptr::allocate(handler), nullptr};
        p.p = new (p.v) Op(impl.socket_, space, handler, socket.get_executor());
        // As Asio's start_op: the descriptor must be non-blocking before the reactor reads it.
        if ((impl.state_ & ad::socket_ops::non_blocking) != 0 ||
            ad::socket_ops::set_internal_non_blocking(impl.socket_, impl.state_, true, p.p->ec_)) {
            reactor_->start_op(ad::reactor::read_op, impl.socket_, impl.reactor_data_, p.p, is_continuation, true);
        } else {
            reactor_->post_immediate_completion(p.p, is_continuation);
        }
        p.v = p.p = nullptr;
    }

    draining_detail::ad::reactor* reactor_;
};

#else

class DrainingReceive {
public:
    explicit DrainingReceive(const StreamSocket::executor_type& /*loop*/) {}
    template <typename Token>
    auto async_read_some(StreamSocket& socket, boost::asio::mutable_buffer buffer, Token&& token) {
        return socket.async_read_some(buffer, std::forward<Token>(token));
    }
    // Without the draining operation the target's space is taken before the read waits.
    template <typename Target, typename Token>
    auto async_read_into(StreamSocket& socket, Target& target, Token&& token) {
        return socket.async_read_some(target.space_for_more(), std::forward<Token>(token));
    }
};

#endif

}  // namespace uniqgate::proxy
