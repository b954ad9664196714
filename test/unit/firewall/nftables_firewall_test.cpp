#include "firewall/firewall_setup_error.hpp"
#include "firewall/nftables_firewall.hpp"
#include "support/scripted_netlink.hpp"

#include <catch2/catch.hpp>

using namespace exim_ban;
using std::chrono::milliseconds;
using testing::ScriptedNetlink;

namespace {

BanKey key(const char* text) {
    return *IpPrefix::parse(text);
}

const std::vector<FirewallJail> jails{{"exim", {25, 465, 587}, Verdict::drop, 64},
                                      {"spam", {}, Verdict::reject, 48}};

// The backend on a scripted kernel, set up for `jails`.
struct Harness {
    Harness() {
        auto channel = std::make_unique<ScriptedNetlink>();
        kernel = channel.get();
        firewall = std::make_unique<NftablesFirewall>(std::move(channel));
        firewall->setup(jails);
    }
    ScriptedNetlink* kernel;
    std::unique_ptr<NftablesFirewall> firewall;

    std::vector<std::string> held(const std::string& set) const {
        std::vector<std::string> result;
        for (const auto& [address, element] : kernel->elements(set))
            result.push_back(address);
        return result;
    }
    // The batches sent since `first`, each as its message types.
    std::vector<std::vector<std::uint16_t>> types(std::size_t first) const {
        std::vector<std::vector<std::uint16_t>> result;
        for (std::size_t b = first; b < kernel->batches().size(); ++b) {
            result.emplace_back();
            for (const auto& message : kernel->batches()[b])
                result.back().push_back(message.type);
        }
        return result;
    }
};

const ScriptedNetlink::SentMessage* find_message(const ScriptedNetlink::SentBatch& batch,
                                                 std::uint16_t type, const std::string& set) {
    for (const auto& message : batch) {
        if (message.type == type && message.set == set)
            return &message;
    }
    return nullptr;
}

} // namespace

TEST_CASE("nftables: setup makes the table in one batch and keeps elements on reload",
          "[firewall][nftables]") {
    Harness harness;
    ScriptedNetlink& kernel = *harness.kernel;
    CHECK(kernel.has_table());
    for (const char* set : {"exim_v4", "exim_v6", "spam_v4", "spam_v6"})
        CHECK(kernel.has_set(set));
    CHECK(kernel.rule_count() == 6); // exim: one per family; spam: two (TCP reset, ICMP)
    REQUIRE(kernel.batches().size() == 1);
    CHECK(kernel.batches()[0].front().type == NFT_MSG_NEWTABLE);

    harness.firewall->add("exim", key("192.0.2.1"), milliseconds{60000});
    harness.firewall->add("spam", key("192.0.2.2"), milliseconds{60000});
    REQUIRE(harness.firewall->commit().ok());

    SECTION("a reload keeps the elements of the sets that stay") {
        harness.firewall->setup(jails);
        CHECK(harness.held("exim_v4") == std::vector<std::string>{"192.0.2.1"});
        CHECK(kernel.rule_count() == 6);
    }
    SECTION("a reload deletes the sets of a jail no longer configured") {
        harness.firewall->setup({jails[0]});
        CHECK(kernel.has_set("exim_v4"));
        CHECK_FALSE(kernel.has_set("spam_v4"));
        CHECK_FALSE(kernel.has_set("spam_v6"));
        CHECK(harness.held("exim_v4") == std::vector<std::string>{"192.0.2.1"});
        CHECK(kernel.rule_count() == 2);
    }
    SECTION("a socket that fails stops the setup and keeps the jails") {
        kernel.fail_next_send(EPERM);
        CHECK_THROWS_AS(harness.firewall->setup({jails[0]}), FirewallSetupError);
        harness.firewall->add("spam", key("192.0.2.3"), milliseconds{1000});
        CHECK(harness.firewall->commit().ok());
    }
}

TEST_CASE("nftables: a refused element fails alone, the rest land", "[firewall][nftables]") {
    Harness harness;
    harness.kernel->refuse_element("192.0.2.7", ERANGE);
    for (const char* address : {"192.0.2.1", "192.0.2.7", "192.0.2.9", "2001:db8:1:2::1"})
        harness.firewall->add("exim", key(address), milliseconds{60000});
    harness.firewall->remove("exim", key("192.0.2.50")); // not banned: no failure

    const CommitResult result = harness.firewall->commit();
    CHECK(result.added == 3);
    CHECK(result.removed == 1);
    CHECK_FALSE(result.fault);
    CHECK_FALSE(result.repaired);
    REQUIRE(result.failures.size() == 1);
    const ElementFailure& failure = result.failures[0];
    CHECK(failure.jail == "exim");
    CHECK(failure.key == key("192.0.2.7"));
    CHECK(failure.change == ElementChangeKind::add);
    CHECK(failure.error == ERANGE);
    CHECK(failure.reason ==
          "nf_tables refused to add 192.0.2.7 to exim_v4: " + std::string(std::strerror(ERANGE)));
    CHECK(harness.held("exim_v4") == std::vector<std::string>{"192.0.2.1", "192.0.2.9"});
    CHECK(harness.held("exim_v6") == std::vector<std::string>{"2001:db8:1:2::"});
    CHECK(harness.kernel->elements("exim_v4").at("192.0.2.1").timeout == milliseconds{60000});
}

TEST_CASE("nftables: a table deleted under a commit is repaired once, and said so",
          "[firewall][nftables]") {
    Harness harness;
    ScriptedNetlink& kernel = *harness.kernel;
    const std::size_t table_reads = kernel.requests(NFT_MSG_GETTABLE);
    const std::size_t first = kernel.batches().size();
    kernel.before_batch([](ScriptedNetlink& k) { k.delete_table(); });

    SECTION("the commit makes the table again and lands its elements") {
        harness.firewall->add("exim", key("192.0.2.1"), milliseconds{60000});
        harness.firewall->add("spam", key("2001:db8:5::1"), milliseconds{60000});
        const CommitResult result = harness.firewall->commit();
        CHECK(result.ok());
        CHECK(result.repaired);
        CHECK(result.added == 2);
        CHECK(kernel.requests(NFT_MSG_GETTABLE) == table_reads + 1);
        const auto sent = harness.types(first);
        REQUIRE(sent.size() == 2);
        CHECK(sent[0].front() == NFT_MSG_NEWSETELEM); // refused: ENOENT, no table
        CHECK(sent[1].front() == NFT_MSG_NEWTABLE);   // the repair, with the elements
        CHECK(harness.held("exim_v4") == std::vector<std::string>{"192.0.2.1"});
        CHECK(harness.held("spam_v6") == std::vector<std::string>{"2001:db8:5::"});
        CHECK(kernel.rule_count() == 6);

        SECTION("the next commit repairs again when it has to") {
            kernel.before_batch([](ScriptedNetlink& k) { k.delete_set("exim_v4"); });
            harness.firewall->add("exim", key("192.0.2.2"), milliseconds{60000});
            const CommitResult next = harness.firewall->commit();
            CHECK(next.ok());
            CHECK(next.repaired);
            CHECK(harness.held("exim_v4") == std::vector<std::string>{"192.0.2.2"});
        }
    }
    SECTION("a table deleted again in the same commit is not repaired twice") {
        // Batches: 1 refused (no table), 2 the repair (192.0.2.7 refused),
        // 3 the repair with the v6 element alone (applied), 4 and 5 the
        // v4 elements alone, after the table went again.
        kernel.refuse_element("192.0.2.7", ERANGE);
        kernel.before_batch([](ScriptedNetlink&) {});
        kernel.before_batch([](ScriptedNetlink&) {});
        kernel.before_batch([](ScriptedNetlink& k) { k.delete_table(); });
        for (const char* address : {"192.0.2.1", "192.0.2.7", "2001:db8:1:2::1"})
            harness.firewall->add("exim", key(address), milliseconds{60000});
        const CommitResult result = harness.firewall->commit();
        CHECK(result.repaired);
        CHECK(result.added == 1);
        REQUIRE(result.failures.size() == 2);
        CHECK(result.failures[0].error == ENOENT);
        CHECK(result.failures[1].error == ENOENT);
        CHECK(kernel.requests(NFT_MSG_GETTABLE) == table_reads + 1);
        CHECK(kernel.batches().size() == first + 5);
        CHECK_FALSE(kernel.has_table());
    }
}

TEST_CASE("nftables: error reports out of order still pin the right elements",
          "[firewall][nftables]") {
    Harness harness;
    ScriptedNetlink& kernel = *harness.kernel;
    kernel.report_in_reverse(true);
    kernel.refuse_element("192.0.2.1", ERANGE);
    kernel.put_element("spam_v4", "192.0.2.5", {milliseconds{1000}, milliseconds{1000}, 0, 0});
    const std::size_t first = kernel.batches().size();

    // Messages in order: exim_v4 (refused: ERANGE), exim_v6, spam_v4
    // (present: EEXIST); the reports come spam_v4 first.
    harness.firewall->add("exim", key("192.0.2.1"), milliseconds{60000});
    harness.firewall->add("exim", key("2001:db8:1:2::1"), milliseconds{60000});
    harness.firewall->add("spam", key("192.0.2.5"), milliseconds{60000});
    const CommitResult result = harness.firewall->commit();

    CHECK(result.added == 2);
    REQUIRE(result.failures.size() == 1);
    CHECK(result.failures[0].key == key("192.0.2.1"));
    CHECK(result.failures[0].error == ERANGE);
    // The present element was renewed (its new timeout holds), the refused
    // one was not taken for it.
    CHECK(kernel.elements("spam_v4").at("192.0.2.5").timeout == milliseconds{60000});
    CHECK(harness.held("exim_v6") == std::vector<std::string>{"2001:db8:1:2::"});
    REQUIRE(kernel.batches().size() > first + 1);
    const auto& second = kernel.batches()[first + 1];
    const auto* renew = find_message(second, NFT_MSG_DELSETELEM, "spam_v4");
    REQUIRE(renew != nullptr);
    CHECK(renew->elements == std::vector<std::string>{"192.0.2.5"});
    CHECK(find_message(second, NFT_MSG_DELSETELEM, "exim_v4") == nullptr);
}

TEST_CASE("nftables: list reads elements, counters and prefixes back", "[firewall][nftables]") {
    Harness harness;
    ScriptedNetlink& kernel = *harness.kernel;
    harness.firewall->add("exim", key("192.0.2.1"), milliseconds{60000});
    harness.firewall->add("exim", key("2001:db8:1:2::7"), milliseconds{60000});
    harness.firewall->add("spam", key("2001:db8:1:2::7"), milliseconds{60000});
    REQUIRE(harness.firewall->commit().ok());
    kernel.put_element("exim_v4", "192.0.2.1", {milliseconds{60000}, milliseconds{30000}, 3, 180});
    // More than one dump message's worth.
    for (int n = 0; n < 100; ++n)
        kernel.put_element("exim_v4", "10.0.0." + std::to_string(n + 1),
                           {milliseconds{1000}, milliseconds{1000}, 0, 0});

    ListResult listed = harness.firewall->list();
    CHECK_FALSE(listed.fault);
    CHECK(listed.table_present);
    REQUIRE(listed.elements.size() == 103);
    const auto find = [&](const std::string& jail, const char* text) {
        for (const auto& element : listed.elements) {
            if (element.jail == jail && element.key == key(text))
                return &element;
        }
        return static_cast<const FirewallElement*>(nullptr);
    };
    const FirewallElement* v4 = find("exim", "192.0.2.1");
    REQUIRE(v4 != nullptr);
    CHECK(v4->timeout == milliseconds{60000});
    CHECK(v4->expires == milliseconds{30000});
    CHECK(v4->packets == 3);
    CHECK(v4->bytes == 180);
    // The rules mask IPv6 with each jail's prefix, and list reads it back.
    CHECK(find("exim", "2001:db8:1:2::/64") != nullptr);
    CHECK(find("spam", "2001:db8:1::/48") != nullptr);

    SECTION("an interrupted dump is read again") {
        kernel.interrupt_next_dump();
        CHECK(harness.firewall->list().elements.size() == 103);
    }
    SECTION("no table: nothing listed, no fault") {
        kernel.delete_table();
        listed = harness.firewall->list();
        CHECK_FALSE(listed.fault);
        CHECK_FALSE(listed.table_present);
        CHECK(listed.elements.empty());
    }
    SECTION("a socket that fails is a fault") {
        kernel.fail_next_send(ENOBUFS);
        listed = harness.firewall->list();
        REQUIRE(listed.fault);
        CHECK(listed.fault->error == ENOBUFS);
    }
}

TEST_CASE("nftables: reconcile makes the kernel hold exactly the active bans",
          "[firewall][nftables]") {
    Harness harness;
    ScriptedNetlink& kernel = *harness.kernel;
    kernel.put_element("exim_v4", "192.0.2.1", {milliseconds{60000}, milliseconds{59000}, 7, 0});
    kernel.put_element("exim_v4", "192.0.2.2", {milliseconds{60000}, milliseconds{60000}, 0, 0});
    kernel.put_element("exim_v4", "192.0.2.3", {milliseconds{60000}, milliseconds{10000}, 0, 0});

    const CommitResult result =
        harness.firewall->reconcile({{"exim", key("192.0.2.1"), milliseconds{60000}},
                                     {"exim", key("192.0.2.3"), milliseconds{60000}},
                                     {"exim", key("192.0.2.4"), milliseconds{30000}},
                                     {"gone", key("192.0.2.5"), milliseconds{30000}}});
    CHECK(result.added == 2); // 192.0.2.4 added, 192.0.2.3 renewed
    CHECK(result.removed == 1);
    CHECK_FALSE(result.repaired);
    REQUIRE(result.failures.size() == 1);
    CHECK(result.failures[0].error == ENOENT);
    CHECK(result.failures[0].jail == "gone");
    CHECK(harness.held("exim_v4") ==
          std::vector<std::string>{"192.0.2.1", "192.0.2.3", "192.0.2.4"});
    const auto held = kernel.elements("exim_v4");
    CHECK(held.at("192.0.2.1").packets == 7); // kept: within the tolerance
    CHECK(held.at("192.0.2.3").expires == milliseconds{60000});
    CHECK(held.at("192.0.2.4").timeout == milliseconds{30000});

    SECTION("a reconcile without a table makes it") {
        kernel.delete_table();
        const CommitResult again =
            harness.firewall->reconcile({{"exim", key("192.0.2.1"), milliseconds{60000}}});
        CHECK(again.ok());
        CHECK(again.added == 1);
        CHECK(kernel.has_table());
        CHECK(harness.held("exim_v4") == std::vector<std::string>{"192.0.2.1"});
    }
}

TEST_CASE("nftables: faults and remove_all", "[firewall][nftables]") {
    Harness harness;
    ScriptedNetlink& kernel = *harness.kernel;

    SECTION("a socket that fails drops the batch with a fault") {
        kernel.fail_next_send(EPERM);
        harness.firewall->add("exim", key("192.0.2.1"), milliseconds{60000});
        const CommitResult result = harness.firewall->commit();
        REQUIRE(result.fault);
        CHECK(result.fault->error == EPERM);
        CHECK(result.fault->message.find("CAP_NET_ADMIN") != std::string::npos);
        CHECK(result.added == 0);
        CHECK(harness.held("exim_v4").empty());
    }
    SECTION("remove_all deletes the table; no table is no fault") {
        CHECK_FALSE(harness.firewall->remove_all());
        CHECK_FALSE(kernel.has_table());
        CHECK_FALSE(harness.firewall->remove_all());
    }
}
