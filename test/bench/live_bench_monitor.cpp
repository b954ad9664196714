// live_bench_monitor: prints one line per set element the kernel adds, as
// nf_tables announces it on the NFNLGRP_NFTABLES netlink group, with the
// CLOCK_MONOTONIC time at which the announcement was read:
//
//   MONOTONIC_NS REALTIME_NS TABLE SET ADDRESS
//
// ADDRESS is the element's key as an IPv4 or IPv6 address (inet_ntop), or
// its bytes in hex for any other key length. live-bench reads it to time
// append-to-ban latency from outside the daemon; the same clock as Python's
// time.monotonic_ns(). It prints "ready" once it is subscribed, "overrun"
// when the socket's buffer overflowed (announcements were lost), and flushes
// after every datagram. Runs until killed or until its standard output
// closes. Needs CAP_NET_ADMIN in the network namespace it watches.
#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <string>
#include <sys/socket.h>
#include <vector>

namespace {

struct Seen {
    long long mono_ns;
    long long real_ns;
};

long long ns(clockid_t clock) {
    timespec ts{};
    clock_gettime(clock, &ts);
    return static_cast<long long>(ts.tv_sec) * 1'000'000'000LL + ts.tv_nsec;
}

std::string key_text(const void* data, std::size_t len) {
    char buf[INET6_ADDRSTRLEN] = {};
    if (len == 4 && inet_ntop(AF_INET, data, buf, sizeof buf))
        return buf;
    if (len == 16 && inet_ntop(AF_INET6, data, buf, sizeof buf))
        return buf;
    std::string hex;
    const auto* bytes = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < len; ++i) {
        char two[3];
        std::snprintf(two, sizeof two, "%02x", bytes[i]);
        hex += two;
    }
    return hex.empty() ? "-" : hex;
}

// Calls f(attr) for each attribute in [begin, end) (libmnl's iteration
// macros do not compile as C++).
template <typename F>
void for_each_attr(const void* begin, const void* end, F f) {
    const auto* at = static_cast<const nlattr*>(begin);
    const auto* stop = static_cast<const char*>(end);
    while (mnl_attr_ok(at, static_cast<int>(stop - reinterpret_cast<const char*>(at)))) {
        f(at);
        at = mnl_attr_next(at);
    }
}

template <typename F>
void for_each_nested(const nlattr* nest, F f) {
    const auto* payload = static_cast<const char*>(mnl_attr_get_payload(nest));
    for_each_attr(payload, payload + mnl_attr_get_payload_len(nest), f);
}

// The key of one NFTA_LIST_ELEM.
std::string element_key(const nlattr* elem) {
    std::string key = "-";
    for_each_nested(elem, [&](const nlattr* attr) {
        if (mnl_attr_get_type(attr) != NFTA_SET_ELEM_KEY)
            return;
        for_each_nested(attr, [&](const nlattr* inner) {
            if (mnl_attr_get_type(inner) == NFTA_DATA_VALUE)
                key = key_text(mnl_attr_get_payload(inner), mnl_attr_get_payload_len(inner));
        });
    });
    return key;
}

int on_message(const nlmsghdr* nlh, void* data) {
    const auto* seen = static_cast<const Seen*>(data);
    if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES ||
        NFNL_MSG_TYPE(nlh->nlmsg_type) != NFT_MSG_NEWSETELEM)
        return MNL_CB_OK;
    std::string table = "-", set = "-";
    std::vector<std::string> keys;
    for_each_attr(mnl_nlmsg_get_payload_offset(nlh, sizeof(nfgenmsg)),
                  mnl_nlmsg_get_payload_tail(nlh), [&](const nlattr* attr) {
                      switch (mnl_attr_get_type(attr)) {
                      case NFTA_SET_ELEM_LIST_TABLE:
                          table = mnl_attr_get_str(attr);
                          break;
                      case NFTA_SET_ELEM_LIST_SET:
                          set = mnl_attr_get_str(attr);
                          break;
                      case NFTA_SET_ELEM_LIST_ELEMENTS:
                          for_each_nested(attr, [&](const nlattr* elem) {
                              if (mnl_attr_get_type(elem) == NFTA_LIST_ELEM)
                                  keys.push_back(element_key(elem));
                          });
                          break;
                      default:
                          break;
                      }
                  });
    for (const auto& key : keys)
        std::printf("%lld %lld %s %s %s\n", seen->mono_ns, seen->real_ns, table.c_str(),
                    set.c_str(), key.c_str());
    return MNL_CB_OK;
}

} // namespace

int main() {
    std::signal(SIGPIPE, SIG_IGN);
    mnl_socket* nl = mnl_socket_open(NETLINK_NETFILTER);
    if (nl == nullptr) {
        std::perror("live_bench_monitor: mnl_socket_open");
        return 1;
    }
    if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        std::perror("live_bench_monitor: mnl_socket_bind");
        return 1;
    }
    int group = NFNLGRP_NFTABLES;
    if (mnl_socket_setsockopt(nl, NETLINK_ADD_MEMBERSHIP, &group, sizeof group) < 0) {
        std::perror("live_bench_monitor: NETLINK_ADD_MEMBERSHIP");
        return 1;
    }
    // Room for bursts: a batch of bans announces every element.
    int rcvbuf = 16 << 20;
    if (setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0)
        setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    std::printf("ready\n");
    std::fflush(stdout);

    std::vector<char> buf(1 << 20);
    for (;;) {
        const ssize_t n = mnl_socket_recvfrom(nl, buf.data(), buf.size());
        Seen seen{ns(CLOCK_MONOTONIC), ns(CLOCK_REALTIME)};
        if (n < 0) {
            if (errno == ENOBUFS) {
                std::printf("overrun\n");
                if (std::fflush(stdout) != 0)
                    break;
                continue;
            }
            if (errno == EINTR)
                continue;
            std::perror("live_bench_monitor: recv");
            mnl_socket_close(nl);
            return 1;
        }
        mnl_cb_run(buf.data(), static_cast<std::size_t>(n), 0, 0, on_message, &seen);
        if (std::fflush(stdout) != 0 || std::ferror(stdout))
            break;
    }
    mnl_socket_close(nl);
    return 0;
}
