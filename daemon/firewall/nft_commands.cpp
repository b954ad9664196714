#include "firewall/nft_commands.hpp"

#include "firewall/element_report.hpp"
#include "firewall/firewall_setup_error.hpp"
#include "firewall/nftables_firewall.hpp"

#include <optional>

namespace exim_ban {
namespace {

// What the kernel holds; nullopt, with the reason on `err`, when it cannot say.
std::optional<ListResult> read_table(NftablesFirewall& firewall, std::ostream& err) {
    ListResult listing = firewall.list();
    if (listing.fault) {
        err << "exim-banctl: " << listing.fault->message << '\n';
        return std::nullopt;
    }
    return listing;
}

} // namespace

int run_nft_list(bool json, std::ostream& out, std::ostream& err) {
    try {
        NftablesFirewall firewall;
        const auto read = read_table(firewall, err);
        if (!read)
            return 1;
        const ListResult& listing = *read;
        if (json)
            out << element_json(listing).dump() << '\n';
        else
            print_element_table(out, listing);
        out.flush();
        return 0;
    } catch (const FirewallSetupError& error) {
        err << "exim-banctl: " << error.what() << '\n';
        return 1;
    }
}

int run_nft_flush(std::ostream& out, std::ostream& err) {
    try {
        NftablesFirewall firewall;
        // Listing first tells "nothing to remove" apart from "removed".
        const auto read = read_table(firewall, err);
        if (!read)
            return 1;
        const ListResult& listing = *read;
        if (!listing.table_present) {
            out << "no table inet exim_ban: nothing to remove\n";
            return 0;
        }
        if (const auto fault = firewall.remove_all()) {
            err << "exim-banctl: " << fault->message << '\n';
            return 1;
        }
        out << "removed table inet exim_ban and its " << listing.elements.size()
            << (listing.elements.size() == 1 ? " ban" : " bans")
            << " (exim-band restores its active bans when it starts or reloads)\n";
        return 0;
    } catch (const FirewallSetupError& error) {
        err << "exim-banctl: " << error.what() << '\n';
        return 1;
    }
}

} // namespace exim_ban
