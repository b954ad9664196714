#include "banctl/import_command.hpp"
#include "store/sqlite_store.hpp"
#include "support/fail2ban_db.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <ctime>
#include <fstream>
#include <sstream>

using namespace exim_ban;
using exim_ban::testing::make_fail2ban_db;
using exim_ban::testing::TempDir;

namespace {

struct Run {
    int status;
    std::string out;
    std::string err;
};

class ImportFixture {
  public:
    ImportFixture()
        : now_(std::time(nullptr)) {
        std::filesystem::create_directories(dir_ / "fail2ban");
        std::filesystem::create_directories(dir_ / "exim-ban");
        std::ofstream(dir_ / "fail2ban/jail.conf") << "[DEFAULT]\nbantime = 1h\nfindtime = 10m\n"
                                                      "maxretry = 5\nenabled = false\n"
                                                      "filter = %(__name__)s\n"
                                                      "[exim]\nport = smtp,465,submission\n"
                                                      "logpath = /var/log/exim4/mainlog\n"
                                                      "[sshd]\nport = ssh\n";
        std::ofstream(dir_ / "fail2ban/jail.local")
            << "[exim]\nenabled = true\nmaxretry = 3\nbantime.increment = true\n";
        make_fail2ban_db(dir_ / "fail2ban.sqlite3", {"exim", "sshd"}, "exim",
                         {{"192.0.2.10", now_ - 60, 3600, 2},
                          {"2001:db8:1:2::5", now_ - 60, 7200, 1},
                          {"192.0.2.11", now_ - 9000, 3600, 1}},
                         {{"192.0.2.10", now_ - 9000, 1800, 1}});
        std::ofstream(dir_ / "exim-ban/exim-ban.conf")
            << "[DEFAULT]\ndatabase = " << (dir_ / "exim-ban/exim-ban.db").string()
            << "\nsocket = " << (dir_ / "exim-ban/control.sock").string()
            << "\nfilters_dir = " EXIM_BAN_FILTERS_DIR "\n[exim]\nenabled = true\n"
            << "logpath = " << (dir_ / "mainlog").string() << "\n";
        options_.database = dir_ / "fail2ban.sqlite3";
        options_.jail_conf = dir_ / "fail2ban/jail.conf";
        options_.config = dir_ / "exim-ban/exim-ban.conf";
    }

    Run run(const std::function<void(ImportOptions&)>& change = {}) {
        ImportOptions options = options_;
        if (change)
            change(options);
        std::ostringstream out, err;
        const int status = run_import_fail2ban(options, out, err);
        return {status, out.str(), err.str()};
    }

    std::filesystem::path conf_file() const { return dir_ / "exim-ban/conf.d/50-fail2ban.conf"; }
    std::filesystem::path database() const { return dir_ / "exim-ban/exim-ban.db"; }
    const TempDir& dir() const { return dir_; }
    std::int64_t now() const { return now_; }

  private:
    TempDir dir_;
    std::int64_t now_;
    ImportOptions options_;
};

} // namespace

TEST_CASE("a dry run prints the file and the bans and changes nothing", "[import]") {
    ImportFixture fixture;
    const Run run = fixture.run([](ImportOptions& options) { options.dry_run = true; });
    INFO(run.out << run.err);
    CHECK(run.status == 0);
    CHECK(run.out.find("(would be written)\n# Imported from fail2ban") != std::string::npos);
    CHECK(run.out.find("\nmaxretry = 3\n") != std::string::npos);
    CHECK(run.out.find("2001:db8:1:2::/64") != std::string::npos);
    CHECK(run.out.find("dry run, nothing changed: would have imported 2 current bans (1 IPv4, "
                       "1 IPv6 /64), 2 history rows, skipped 1 (1 expired) in ") !=
          std::string::npos);
    CHECK_FALSE(std::filesystem::exists(fixture.conf_file()));
    CHECK_FALSE(std::filesystem::exists(fixture.database()));
}

TEST_CASE("the import writes conf.d, stores the bans, and is not repeated by mistake", "[import]") {
    ImportFixture fixture;
    Run run = fixture.run();
    INFO(run.out << run.err);
    REQUIRE(run.status == 0);
    CHECK(run.out.find("exim-band is not running") != std::string::npos);
    CHECK(run.out.find("imported 2 current bans (1 IPv4, 1 IPv6 /64), 2 history rows, skipped 1 "
                       "(1 expired) in ") != std::string::npos);
    CHECK(std::filesystem::exists(fixture.conf_file()));
    {
        SqliteStore store(fixture.database());
        const auto active = store.active_bans(fixture.now()).value();
        REQUIRE(active.size() == 2);
        CHECK(store.history("exim", *IpPrefix::parse("192.0.2.10")).value().bans == 2);
        CHECK(store.history("exim", *IpPrefix::parse("192.0.2.11")).value().bans == 1);
    }

    run = fixture.run();
    CHECK(run.status == 1);
    CHECK(run.err.find("50-fail2ban.conf exists (an earlier import?); --force replaces it") !=
          std::string::npos);

    run = fixture.run([](ImportOptions& options) { options.force = true; });
    CHECK(run.status == 0);
    CHECK(run.out.find("imported 0 current bans (0 IPv4, 0 IPv6 /64), 0 history rows, skipped 3 "
                       "(2 already imported, 1 expired)") != std::string::npos);
}

TEST_CASE("a wrong input stops the import before it changes anything", "[import]") {
    ImportFixture fixture;
    Run run = fixture.run([](ImportOptions& options) { options.jail = "postfix"; });
    CHECK(run.status == 1);
    CHECK(run.err.find("have no jail [postfix]; give --jail, one of: exim, sshd") !=
          std::string::npos);

    run = fixture.run([&](ImportOptions& options) { options.database = fixture.dir() / "none"; });
    CHECK(run.status == 1);
    CHECK(run.err.find("none: no such file") != std::string::npos);

    run =
        fixture.run([&](ImportOptions& options) { options.config = fixture.dir() / "none.conf"; });
    CHECK(run.status == 1);
    CHECK(run.err.find("exim-ban's configuration does not load") != std::string::npos);

    CHECK_FALSE(std::filesystem::exists(fixture.conf_file()));
    CHECK_FALSE(std::filesystem::exists(fixture.database()));
}
