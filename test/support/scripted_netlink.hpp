// A NetlinkChannel with nf_tables scripted behind it, for tests of
// NftablesFirewall without root. It keeps what the kernel would (table
// inet exim_ban: its sets and their elements, the chain, the rules) and
// answers as nf_tables does, with messages built by libmnl/libnftnl: a
// batch is applied all or nothing, with an error report per refused message
// (ENOENT for a missing table, set or element, EEXIST for an exclusive add
// of an element present); a request gets its object and an ack, a dump its
// objects and NLMSG_DONE, a missing object ENOENT. Objects are answered as
// they were sent (the kernel adds handles and use counts, which nobody
// reads). Anonymous sets (the port sets) are taken and not kept.
//
// The test scripts what the kernel does besides (refuse an element, change
// the table between batches, report errors out of order, fail the socket)
// and reads what was sent.
#pragma once

#include "core/ban_key.hpp"
#include "firewall/element_key.hpp"
#include "firewall/netlink_channel.hpp"

// <arpa/inet.h> before the kernel's netfilter headers; see nft_batch.cpp.
#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <deque>
#include <endian.h>
#include <functional>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace exim_ban::testing {

class ScriptedNetlink final : public NetlinkChannel {
  public:
    // A message of a batch as sent (begin and end left out).
    struct SentMessage {
        std::uint16_t type = 0; // NFT_MSG_*
        std::uint16_t flags = 0;
        std::uint32_t sequence = 0;
        std::string set;                   // element and set messages: the set named
        std::vector<std::string> elements; // element messages: the addresses, in order
    };
    using SentBatch = std::vector<SentMessage>;

    struct Element {
        std::chrono::milliseconds timeout{0};
        std::chrono::milliseconds expires{0}; // time left
        std::uint64_t packets = 0;
        std::uint64_t bytes = 0;
    };

    // --- what the test scripts ---
    // Element messages holding `address` (an IP literal) are refused with
    // `error`, as the kernel refuses an element it cannot take.
    void refuse_element(const std::string& address, int error) {
        refused_[key_bytes(address)] = error;
    }
    // Runs `change` on the kernel just before it takes the next batch not
    // yet given a change (someone changing the table meanwhile).
    void before_batch(std::function<void(ScriptedNetlink&)> change) {
        before_batch_.push_back(std::move(change));
    }
    // The error reports of a refused batch arrive last message first.
    void report_in_reverse(bool reverse) { reverse_reports_ = reverse; }
    // The next send fails with `error` (nothing reaches the kernel).
    void fail_next_send(int error) { send_error_ = error; }
    // The next dump is marked interrupted (NLM_F_DUMP_INTR).
    void interrupt_next_dump() { interrupt_dump_ = true; }
    // As `nft delete table inet exim_ban` by hand.
    void delete_table() { kernel_ = Kernel{}; }
    // As `nft delete set inet exim_ban NAME` by hand.
    void delete_set(const std::string& set) { kernel_.sets.erase(set); }
    // An element put in by hand (as `nft add element`); the set must exist.
    void put_element(const std::string& set, const std::string& address, Element element) {
        kernel_.sets.at(set).elements[key_bytes(address)] = element;
    }
    // Time passes for the kernel's elements; expired ones go.
    void advance(std::chrono::milliseconds time) {
        for (auto& [name, set] : kernel_.sets) {
            for (auto& [key, element] : set.elements)
                element.expires -= time;
            std::erase_if(set.elements, [](const auto& entry) {
                return entry.second.expires <= std::chrono::milliseconds{0};
            });
        }
    }

    // --- what the test reads ---
    bool has_table() const { return kernel_.table.has_value(); }
    bool has_set(const std::string& set) const { return kernel_.sets.count(set) != 0; }
    std::size_t rule_count() const { return kernel_.rules.size(); }
    // The elements of a set as addresses (IPv6 written in full), sorted.
    std::map<std::string, Element> elements(const std::string& set) const {
        std::map<std::string, Element> result;
        if (const auto found = kernel_.sets.find(set); found != kernel_.sets.end()) {
            for (const auto& [key, element] : found->second.elements)
                result.emplace(address_text(key), element);
        }
        return result;
    }
    // Every batch sent, in order, applied or not.
    const std::vector<SentBatch>& batches() const { return batches_; }
    // How many requests of a type (NFT_MSG_GET*) were sent.
    std::size_t requests(std::uint16_t type) const {
        return static_cast<std::size_t>(std::count(requests_.begin(), requests_.end(), type));
    }

    // --- NetlinkChannel ---
    std::uint32_t reserve_sequence(std::uint32_t count) override {
        const std::uint32_t first = next_sequence_;
        next_sequence_ += count;
        return first;
    }

  private:
    using Bytes = std::vector<char>;
    using Key = std::vector<std::uint8_t>;
    struct Set {
        Bytes message; // its NEWSET as sent
        std::map<Key, Element> elements;
    };
    struct Kernel {
        std::optional<Bytes> table, chain; // their NEW* messages as sent
        std::vector<Bytes> rules;
        std::map<std::string, Set> sets;
    };
    struct SetDeleter {
        void operator()(nftnl_set* set) const { nftnl_set_free(set); }
    };
    using SetPtr = std::unique_ptr<nftnl_set, SetDeleter>;

    static constexpr std::uint32_t port = 4242;

    static Key key_bytes(const std::string& address) {
        const auto parsed = IpAddress::parse(address);
        if (!parsed)
            throw std::invalid_argument("ScriptedNetlink: not an IP address: " + address);
        const auto size = static_cast<std::ptrdiff_t>(parsed->is_v4() ? 4 : 16);
        return Key(parsed->bytes().begin(), parsed->bytes().begin() + size);
    }
    // An address; a port set's key (two bytes) as "port N".
    static std::string address_text(const Key& key) {
        if (const auto address = ban_key_of_element(key, 128))
            return address->to_string();
        return key.size() == 2 ? "port " + std::to_string(key[0] << 8 | key[1]) : "?";
    }

    static std::vector<const nlmsghdr*> messages_of(std::span<const char> bytes) {
        std::vector<const nlmsghdr*> result;
        auto length = static_cast<int>(bytes.size());
        for (auto* message = reinterpret_cast<const nlmsghdr*>(bytes.data());
             mnl_nlmsg_ok(message, length); message = mnl_nlmsg_next(message, &length))
            result.push_back(message);
        return result;
    }
    static std::uint16_t nft_type(const nlmsghdr* message) {
        return static_cast<std::uint16_t>(message->nlmsg_type & 0xff);
    }
    static Bytes copy(const nlmsghdr* message) {
        const auto* start = reinterpret_cast<const char*>(message);
        return Bytes(start, start + message->nlmsg_len);
    }

    // The set a set or element message names, and its elements' keys and
    // timeouts.
    struct ParsedSet {
        std::string name;
        std::uint32_t flags = 0;
        std::vector<std::pair<Key, std::chrono::milliseconds>> elements;
    };
    static ParsedSet parse_set(const nlmsghdr* message, bool elements) {
        SetPtr set(nftnl_set_alloc());
        ParsedSet parsed;
        // libnftnl reports the anonymous port sets' elements (keys only) as
        // not parsing, names and all: what it read is used all the same.
        if (elements)
            nftnl_set_elems_nlmsg_parse(message, set.get());
        else
            nftnl_set_nlmsg_parse(message, set.get());
        if (nftnl_set_is_set(set.get(), NFTNL_SET_NAME))
            parsed.name = nftnl_set_get_str(set.get(), NFTNL_SET_NAME);
        if (nftnl_set_is_set(set.get(), NFTNL_SET_FLAGS))
            parsed.flags = nftnl_set_get_u32(set.get(), NFTNL_SET_FLAGS);
        nftnl_set_elem_foreach(
            set.get(),
            [](nftnl_set_elem* element, void* data) -> int {
                std::uint32_t size = 0;
                const auto* key = static_cast<const std::uint8_t*>(
                    nftnl_set_elem_get(element, NFTNL_SET_ELEM_KEY, &size));
                std::chrono::milliseconds timeout{0};
                if (nftnl_set_elem_is_set(element, NFTNL_SET_ELEM_TIMEOUT))
                    timeout = std::chrono::milliseconds(
                        nftnl_set_elem_get_u64(element, NFTNL_SET_ELEM_TIMEOUT));
                static_cast<ParsedSet*>(data)->elements.emplace_back(Key(key, key + size), timeout);
                return 0;
            },
            &parsed);
        return parsed;
    }

    // --- batches ---
    // Applies one message to `kernel`; returns 0 or the errno nf_tables
    // would report for it.
    int apply(Kernel& kernel, const nlmsghdr* message, const ParsedSet& parsed) const {
        const std::uint16_t type = nft_type(message);
        const bool anonymous = parsed.name.starts_with("__set");
        if (type != NFT_MSG_NEWTABLE && !kernel.table)
            return ENOENT;
        switch (type) {
        case NFT_MSG_NEWTABLE:
            if (!kernel.table)
                kernel.table = copy(message);
            return 0;
        case NFT_MSG_DELTABLE:
            kernel = Kernel{};
            return 0;
        case NFT_MSG_NEWSET:
            if (!anonymous && kernel.sets.count(parsed.name) == 0)
                kernel.sets[parsed.name].message = copy(message);
            return 0;
        case NFT_MSG_DELSET:
            return kernel.sets.erase(parsed.name) == 0 ? ENOENT : 0;
        case NFT_MSG_NEWCHAIN:
            if (!kernel.chain)
                kernel.chain = copy(message);
            return 0;
        case NFT_MSG_DELRULE:
            if (!kernel.chain)
                return ENOENT;
            kernel.rules.clear();
            return 0;
        case NFT_MSG_NEWRULE:
            if (!kernel.chain)
                return ENOENT;
            kernel.rules.push_back(copy(message));
            return 0;
        case NFT_MSG_NEWSETELEM:
        case NFT_MSG_DELSETELEM:
            return anonymous ? 0 : apply_elements(kernel, message, parsed);
        default:
            return EOPNOTSUPP;
        }
    }

    int apply_elements(Kernel& kernel, const nlmsghdr* message, const ParsedSet& parsed) const {
        const auto set = kernel.sets.find(parsed.name);
        if (set == kernel.sets.end())
            return ENOENT;
        auto& held = set->second.elements;
        const bool add = nft_type(message) == NFT_MSG_NEWSETELEM;
        for (const auto& [key, timeout] : parsed.elements) {
            if (const auto refused = refused_.find(key); refused != refused_.end())
                return refused->second;
            const bool present = held.count(key) != 0;
            if (!add) {
                if (!present)
                    return ENOENT;
                held.erase(key);
            } else if (present) {
                // Linux < 6.12 leaves an element added again as it was.
                if ((message->nlmsg_flags & NLM_F_EXCL) != 0)
                    return EEXIST;
            } else {
                held[key] = Element{timeout, timeout, 0, 0};
            }
        }
        return 0;
    }

    void take_batch(const std::vector<const nlmsghdr*>& messages) {
        if (!before_batch_.empty()) {
            auto change = std::move(before_batch_.front());
            before_batch_.pop_front();
            change(*this);
        }
        SentBatch sent;
        Kernel changed = kernel_;
        std::vector<std::pair<const nlmsghdr*, int>> refused;
        for (const nlmsghdr* message : messages) {
            if (message->nlmsg_type == NFNL_MSG_BATCH_BEGIN ||
                message->nlmsg_type == NFNL_MSG_BATCH_END)
                continue;
            const std::uint16_t type = nft_type(message);
            const bool elements = type == NFT_MSG_NEWSETELEM || type == NFT_MSG_DELSETELEM;
            const bool set = type == NFT_MSG_NEWSET || type == NFT_MSG_DELSET;
            const ParsedSet parsed = elements || set ? parse_set(message, elements) : ParsedSet{};
            SentMessage record{type, message->nlmsg_flags, message->nlmsg_seq, parsed.name, {}};
            for (const auto& [key, timeout] : parsed.elements)
                record.elements.push_back(address_text(key));
            sent.push_back(std::move(record));
            // nf_tables goes on after a refused message, to report them all.
            if (const int error = apply(changed, message, parsed); error != 0)
                refused.emplace_back(message, error);
        }
        batches_.push_back(std::move(sent));
        if (refused.empty()) {
            kernel_ = std::move(changed);
            return;
        }
        if (reverse_reports_)
            std::reverse(refused.begin(), refused.end());
        for (const auto& [message, error] : refused)
            queue_error(message, error);
    }

    // --- requests ---
    void take_request(const nlmsghdr* request) {
        const std::uint16_t type = nft_type(request);
        requests_.push_back(type);
        const std::uint32_t sequence = request->nlmsg_seq;
        const auto answer_one = [&](const std::optional<Bytes>& object) {
            if (!object)
                return queue_error(request, ENOENT);
            queue_reply({*object}, sequence, 0);
            queue_error(request, 0); // the ack
        };
        switch (type) {
        case NFT_MSG_GETTABLE:
            return answer_one(kernel_.table);
        case NFT_MSG_GETCHAIN:
            return answer_one(kernel_.table ? kernel_.chain : std::nullopt);
        case NFT_MSG_GETSET: {
            if (!kernel_.table)
                return queue_error(request, ENOENT);
            std::vector<Bytes> sets;
            for (const auto& [name, set] : kernel_.sets)
                sets.push_back(set.message);
            return queue_dump(sets, sequence);
        }
        case NFT_MSG_GETRULE:
            // nf_tables dumps the rules of no table as none.
            return queue_dump(kernel_.table ? kernel_.rules : std::vector<Bytes>{}, sequence);
        case NFT_MSG_GETSETELEM: {
            const std::string name = parse_set(request, true).name;
            const auto set = kernel_.sets.find(name);
            if (!kernel_.table || set == kernel_.sets.end())
                return queue_error(request, ENOENT);
            return queue_dump(element_messages(name, set->second), sequence);
        }
        default:
            return queue_error(request, EOPNOTSUPP);
        }
    }

    // The elements of a set as nf_tables dumps them, a few per message so
    // that a dump takes several.
    static std::vector<Bytes> element_messages(const std::string& name, const Set& set) {
        constexpr std::size_t per_message = 64;
        std::vector<Bytes> result;
        auto element = set.elements.begin();
        do {
            Bytes buffer(64 << 10); // a page (MNL_SOCKET_BUFFER_SIZE) is too small
            nlmsghdr* message =
                nftnl_nlmsg_build_hdr(buffer.data(), NFT_MSG_NEWSETELEM, NFPROTO_INET, 0, 0);
            mnl_attr_put_strz(message, NFTA_SET_ELEM_LIST_TABLE, "exim_ban");
            mnl_attr_put_strz(message, NFTA_SET_ELEM_LIST_SET, name.c_str());
            nlattr* list = mnl_attr_nest_start(message, NFTA_SET_ELEM_LIST_ELEMENTS);
            for (std::size_t n = 0; n < per_message && element != set.elements.end();
                 ++n, ++element) {
                const auto& [key, held] = *element;
                nlattr* item = mnl_attr_nest_start(message, NFTA_LIST_ELEM);
                nlattr* key_nest = mnl_attr_nest_start(message, NFTA_SET_ELEM_KEY);
                mnl_attr_put(message, NFTA_DATA_VALUE, key.size(), key.data());
                mnl_attr_nest_end(message, key_nest);
                mnl_attr_put_u64(message, NFTA_SET_ELEM_TIMEOUT,
                                 htobe64(static_cast<std::uint64_t>(held.timeout.count())));
                mnl_attr_put_u64(message, NFTA_SET_ELEM_EXPIRATION,
                                 htobe64(static_cast<std::uint64_t>(held.expires.count())));
                nlattr* expression = mnl_attr_nest_start(message, NFTA_SET_ELEM_EXPR);
                mnl_attr_put_strz(message, NFTA_EXPR_NAME, "counter");
                nlattr* counter = mnl_attr_nest_start(message, NFTA_EXPR_DATA);
                mnl_attr_put_u64(message, NFTA_COUNTER_BYTES, htobe64(held.bytes));
                mnl_attr_put_u64(message, NFTA_COUNTER_PACKETS, htobe64(held.packets));
                mnl_attr_nest_end(message, counter);
                mnl_attr_nest_end(message, expression);
                mnl_attr_nest_end(message, item);
            }
            mnl_attr_nest_end(message, list);
            buffer.resize(message->nlmsg_len);
            result.push_back(std::move(buffer));
        } while (element != set.elements.end());
        return result;
    }

    // One datagram holding `messages` as replies to `sequence`.
    void queue_reply(const std::vector<Bytes>& messages, std::uint32_t sequence,
                     std::uint16_t flags) {
        Bytes datagram;
        for (const Bytes& message : messages) {
            const std::size_t at = datagram.size();
            datagram.insert(datagram.end(), message.begin(), message.end());
            datagram.resize(at + NLMSG_ALIGN(message.size()));
            auto* header = reinterpret_cast<nlmsghdr*>(datagram.data() + at);
            header->nlmsg_flags = flags;
            header->nlmsg_seq = sequence;
            header->nlmsg_pid = port;
        }
        if (!datagram.empty())
            replies_.push_back(std::move(datagram));
    }

    void queue_dump(const std::vector<Bytes>& objects, std::uint32_t sequence) {
        std::uint16_t flags = NLM_F_MULTI;
        if (std::exchange(interrupt_dump_, false))
            flags |= NLM_F_DUMP_INTR;
        queue_reply(objects, sequence, flags);
        Bytes done(NLMSG_LENGTH(sizeof(int)), 0);
        auto* header = reinterpret_cast<nlmsghdr*>(done.data());
        header->nlmsg_len = static_cast<std::uint32_t>(done.size());
        header->nlmsg_type = NLMSG_DONE;
        queue_reply({done}, sequence, flags);
    }

    // An error report (an ack when `error` is 0), capped as NETLINK_CAP_ACK
    // has it: the header of the message it answers, not the message.
    void queue_error(const nlmsghdr* message, int error) {
        Bytes report(NLMSG_LENGTH(sizeof(nlmsgerr)), 0);
        auto* header = reinterpret_cast<nlmsghdr*>(report.data());
        header->nlmsg_len = static_cast<std::uint32_t>(report.size());
        header->nlmsg_type = NLMSG_ERROR;
        auto* payload = static_cast<nlmsgerr*>(mnl_nlmsg_get_payload(header));
        payload->error = -error;
        payload->msg = *message;
        queue_reply({report}, message->nlmsg_seq, error == 0 ? 0 : NLM_F_CAPPED);
    }

    // --- NetlinkChannel ---
    int send(std::span<const char> bytes) override {
        replies_.clear(); // as the socket drains what an earlier exchange left
        if (const int error = std::exchange(send_error_, 0); error != 0)
            return error;
        const auto messages = messages_of(bytes);
        if (messages.empty())
            return EINVAL;
        if (messages.front()->nlmsg_type == NFNL_MSG_BATCH_BEGIN)
            take_batch(messages);
        else
            take_request(messages.front());
        return 0;
    }

    Received receive(bool) override {
        if (replies_.empty())
            return {EAGAIN, {}};
        current_ = std::move(replies_.front());
        replies_.pop_front();
        return {0, current_};
    }

    std::uint32_t port_id() const override { return port; }

    Kernel kernel_;
    std::uint32_t next_sequence_ = 1000;
    std::map<Key, int> refused_;
    std::deque<std::function<void(ScriptedNetlink&)>> before_batch_;
    bool reverse_reports_ = false;
    int send_error_ = 0;
    bool interrupt_dump_ = false;
    std::vector<SentBatch> batches_;
    std::vector<std::uint16_t> requests_;
    std::deque<Bytes> replies_;
    Bytes current_;
};

} // namespace exim_ban::testing
