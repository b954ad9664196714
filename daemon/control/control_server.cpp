#include "control/control_server.hpp"

#include "control/access_policy.hpp"
#include "control/descriptor_limit.hpp"
#include "control/peer_credentials.hpp"
#include "control/socket_file.hpp"
#include "loop/lifetime.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <optional>
#include <spdlog/spdlog.h>
#include <unistd.h>
#include <unordered_map>
#include <vector>

namespace exim_ban {
namespace {

using Socket = boost::asio::local::stream_protocol::socket;

// Accept fails for want of descriptors or memory; trying again at once
// would spin on the same failure.
constexpr std::chrono::milliseconds accept_retry_delay{100};

constexpr std::size_t read_chunk_bytes = 4096;

// Descriptors the daemon holds besides its control connections: the logs
// it follows, inotify, the database and its WAL (twice: the checkpointer
// has a connection of its own), netlink sockets, the event loop's own.
constexpr std::size_t own_descriptors = 64;

void make_room_for(std::size_t clients) {
    const std::uint64_t wanted = clients + own_descriptors;
    const DescriptorLimitChange change = raise_descriptor_limit(wanted);
    if (change.after.soft != change.before.soft)
        spdlog::info("control: limit on open files raised from {} to {} for {} connections",
                     change.before.soft, change.after.soft, clients);
    if (change.after.soft < wanted)
        spdlog::warn("control: the limit on open files is {} ({}): fewer than {} connections may "
                     "fit; raise LimitNOFILE= (hard limit) for exim-band",
                     change.after.soft,
                     change.error != 0 ? std::string(std::strerror(change.error))
                                       : "hard limit " + std::to_string(change.after.hard),
                     clients);
}

std::string too_long_text(std::size_t limit) {
    return "request too long (more than " + std::to_string(limit) + " bytes)";
}

} // namespace

class ControlServer::Impl {
  public:
    Impl(boost::asio::io_context& io, ControlServerOptions options, ControlHandler& handler);
    ~Impl();
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;

    void stop();
    ControlServerStats stats() const { return stats_; }

  private:
    class Connection;

    void accept();
    void on_accepted(Socket socket);
    void refuse(Socket& socket);

    ControlServerOptions options_;
    ControlHandler& handler_;
    ControlGroup group_;
    boost::asio::local::stream_protocol::acceptor acceptor_;
    boost::asio::steady_timer accept_retry_;
    dev_t socket_device_ = 0;
    ino_t socket_inode_ = 0;
    // The connections own themselves (their pending operations hold them);
    // these are for stop() and the max_clients count.
    std::unordered_map<const Connection*, std::weak_ptr<Connection>> connections_;
    ControlServerStats stats_;
    bool stopped_ = false;
    bool refusing_ = false; // logged once until a connection is served again
    // Last: handlers still queued when this goes find it gone.
    Lifetime lifetime_;
};

// One client. Lives as long as one of its operations is pending; after
// close() (by itself or by stop()) its handlers touch nothing but itself,
// so a server stopped or destroyed meanwhile is never reached.
class ControlServer::Impl::Connection : public std::enable_shared_from_this<Connection> {
  public:
    Connection(Impl& server, Socket socket, const PeerCredentials& peer)
        : server_(server)
        , socket_(std::move(socket))
        , deadline_(socket_.get_executor())
        , peer_(peer) {}

    void start() {
        arm_deadline();
        serve_next();
    }

    void close() {
        if (closed_)
            return;
        closed_ = true;
        deadline_.cancel();
        boost::system::error_code ignored;
        // The descriptor is released whatever close says; there is nothing
        // left to do for a peer that is gone.
        socket_.close(ignored);
        // stop() walks the map and clears it itself.
        if (!server_.stopped_)
            server_.connections_.erase(this);
    }

  private:
    // Every phase, waiting for a complete request and handing a reply
    // over, gets idle_timeout of its own: a peer that trickles a request
    // byte by byte (slowloris) or never reads its replies is closed.
    void arm_deadline() {
        deadline_.expires_after(server_.options_.idle_timeout);
        deadline_.async_wait([self = shared_from_this()](const boost::system::error_code& error) {
            // A wait that completed just before the deadline was moved
            // still runs: only a deadline that has passed closes.
            if (error || self->closed_ ||
                self->deadline_.expiry() > boost::asio::steady_timer::clock_type::now())
                return;
            ++self->server_.stats_.timed_out;
            self->close();
        });
    }

    void serve_next() {
        const std::size_t newline = pending_.find('\n');
        const std::size_t limit = server_.options_.max_request_bytes;
        if (newline == std::string::npos) {
            if (pending_.size() > limit) {
                ++server_.stats_.requests;
                ++server_.stats_.errors;
                send(error_reply(too_long_text(limit)), true);
                return;
            }
            read_more();
            return;
        }
        const std::string line = pending_.substr(0, newline);
        pending_.erase(0, newline + 1);
        std::optional<std::string> reply = answer(line);
        if (!reply)
            return;
        arm_deadline();
        send(std::move(*reply), false);
    }

    void read_more() {
        // Never more than one byte past the limit: a line that long is
        // refused whatever follows, so the buffer stays bounded.
        const std::size_t room = server_.options_.max_request_bytes + 1 - pending_.size();
        socket_.async_read_some(
            boost::asio::buffer(chunk_.data(), std::min(room, chunk_.size())),
            [self = shared_from_this()](const boost::system::error_code& error, std::size_t bytes) {
                if (self->closed_)
                    return;
                // EOF or a reset: the peer is gone, with or without a
                // partial request.
                if (error) {
                    self->close();
                    return;
                }
                self->pending_.append(self->chunk_.data(), bytes);
                self->serve_next();
            });
    }

    // Sends a reply the handler makes later, then serves the next request.
    ControlHandler::Reply later() {
        return [self = shared_from_this()](std::string line) {
            if (self->closed_)
                return;
            self->arm_deadline();
            self->send(std::move(line), false);
        };
    }

    // The reply line to `line`; nullopt when the handler answers later or
    // closed this connection (stopped or destroyed the server) while it ran.
    std::optional<std::string> answer(std::string_view line) {
        ++server_.stats_.requests;
        ParsedControlRequest parsed = parse_control_request(line);
        if (!parsed.request) {
            ++server_.stats_.errors;
            return error_reply(parsed.error);
        }
        const ControlRequest& request = *parsed.request;
        const Access access = access_of(request.cmd);
        if (!allowed(access)) {
            ++server_.stats_.errors;
            ++server_.stats_.denied;
            return error_reply(access_refusal(request.cmd, access, peer_, server_.group_.name));
        }
        std::string failure;
        try {
            std::optional<nlohmann::json> reply = server_.handler_.handle(request, later());
            if (closed_)
                return std::nullopt;
            if (!reply) {
                // The handler's own work, however long: no idle deadline.
                deadline_.cancel();
                return std::nullopt;
            }
            return encode_reply(*reply);
        } catch (const std::exception& error) {
            failure = error.what();
        } catch (...) {
            failure = "unknown exception";
        }
        if (closed_)
            return std::nullopt;
        ++server_.stats_.errors;
        spdlog::error("control: \"{}\" from uid {} (pid {}) failed: {}", request.cmd, peer_.uid,
                      peer_.pid, failure);
        return error_reply(request.cmd + " failed: " + failure);
    }

    bool allowed(Access access) {
        const gid_t control_gid = server_.group_.gid;
        // The account database is asked only when the answer depends on
        // it, and once per connection.
        if (access == Access::read && peer_.uid != 0 && peer_.gid != control_gid && !groups_)
            groups_ = groups_of(peer_.uid, peer_.gid);
        static const std::vector<gid_t> none;
        return may_access(access, peer_, control_gid, groups_ ? *groups_ : none);
    }

    void send(std::string reply, bool then_close) {
        reply_ = std::move(reply);
        boost::asio::async_write(socket_, boost::asio::buffer(reply_),
                                 [self = shared_from_this(),
                                  then_close](const boost::system::error_code& error, std::size_t) {
                                     if (self->closed_)
                                         return;
                                     if (error || then_close) {
                                         self->close();
                                         return;
                                     }
                                     self->arm_deadline();
                                     self->serve_next();
                                 });
    }

    Impl& server_;
    Socket socket_;
    boost::asio::steady_timer deadline_;
    PeerCredentials peer_;
    std::optional<std::vector<gid_t>> groups_; // looked up when first needed
    std::string pending_;                      // received, not yet answered
    std::array<char, read_chunk_bytes> chunk_{};
    std::string reply_; // being written
    bool closed_ = false;
};

ControlServer::Impl::Impl(boost::asio::io_context& io, ControlServerOptions options,
                          ControlHandler& handler)
    : options_(std::move(options))
    , handler_(handler)
    , group_(look_up_control_group(options_.group))
    , acceptor_(io)
    , accept_retry_(io) {
    make_room_for(options_.max_clients);
    const ListeningSocket listening = open_listening_socket(options_.socket, group_.gid);
    socket_device_ = listening.device;
    socket_inode_ = listening.inode;
    boost::system::error_code error;
    acceptor_.assign(boost::asio::local::stream_protocol(), listening.fd, error);
    if (error) {
        const int removal = remove_socket_file(options_.socket, socket_device_, socket_inode_);
        // Nothing more can be done with a descriptor Asio would not take.
        ::close(listening.fd);
        throw std::runtime_error("cannot serve the control socket \"" + options_.socket.string() +
                                 "\": " + error.message() +
                                 (removal != 0 ? "; it could not be removed either" : ""));
    }
    accept();
}

ControlServer::Impl::~Impl() {
    // stop() throws only where Asio (a timer's cancel) or the log cannot do
    // their part as the daemon exits; nothing is left to undo then, and a
    // destructor that throws would end the process mid-unwind.
    try {
        stop();
    } catch (...) {
    }
}

void ControlServer::Impl::stop() {
    if (stopped_)
        return;
    stopped_ = true;
    // Removed while the socket is still bound: see remove_socket_file.
    if (const int error = remove_socket_file(options_.socket, socket_device_, socket_inode_))
        spdlog::warn("control: cannot remove {}: {}", options_.socket.native(),
                     std::strerror(error));
    boost::system::error_code ignored;
    // Closing the listening descriptor cannot fail in a way that leaves it
    // open.
    acceptor_.close(ignored);
    accept_retry_.cancel();
    for (const auto& [key, connection] : connections_)
        if (const auto open = connection.lock())
            open->close();
    connections_.clear();
}

void ControlServer::Impl::accept() {
    acceptor_.async_accept(
        lifetime_.guarded([this](const boost::system::error_code& error, Socket socket) {
            if (stopped_)
                return;
            if (error) {
                spdlog::warn("control: cannot accept a connection: {}; retrying", error.message());
                accept_retry_.expires_after(accept_retry_delay);
                accept_retry_.async_wait(
                    lifetime_.guarded([this](const boost::system::error_code& waited) {
                        if (!waited && !stopped_)
                            accept();
                    }));
                return;
            }
            on_accepted(std::move(socket));
            accept();
        }));
}

void ControlServer::Impl::on_accepted(Socket socket) {
    // Asio accepts without SOCK_CLOEXEC; a connection must not leak into
    // anything the daemon runs.
    if (::fcntl(socket.native_handle(), F_SETFD, FD_CLOEXEC) != 0) {
        spdlog::warn("control: cannot set close-on-exec on a connection: {}", std::strerror(errno));
        return;
    }
    if (connections_.size() >= options_.max_clients) {
        refuse(socket);
        return;
    }
    const PeerCredentialsRead peer = read_peer_credentials(socket.native_handle());
    if (!peer.credentials) {
        // Without credentials nobody can be authorized: fail closed.
        spdlog::warn("control: cannot read a peer's credentials: {}", std::strerror(peer.error));
        return;
    }
    refusing_ = false;
    ++stats_.connections;
    auto connection = std::make_shared<Connection>(*this, std::move(socket), *peer.credentials);
    connections_.emplace(connection.get(), connection);
    connection->start();
}

void ControlServer::Impl::refuse(Socket& socket) {
    ++stats_.refused;
    if (!refusing_)
        spdlog::warn("control: {} connections are open, the most allowed; refusing more",
                     options_.max_clients);
    refusing_ = true;
    // One short write to a fresh connection fits its empty buffer; done
    // without blocking and without keeping state for a refused client.
    // Unsent (the peer already left), it is simply lost.
    const std::string reply = error_reply("too many clients");
    boost::system::error_code ignored;
    socket.non_blocking(true, ignored);
    if (!ignored)
        socket.write_some(boost::asio::buffer(reply), ignored);
}

ControlServer::ControlServer(boost::asio::io_context& io, ControlServerOptions options,
                             ControlHandler& handler)
    : impl_(std::make_unique<Impl>(io, std::move(options), handler)) {}

ControlServer::~ControlServer() = default;

void ControlServer::stop() {
    impl_->stop();
}

ControlServerStats ControlServer::stats() const {
    return impl_->stats();
}

} // namespace exim_ban
