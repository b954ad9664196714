#include "banctl/nft_commands.hpp"

#include "banctl/element_report.hpp"
#include "firewall/firewall_setup_error.hpp"
#include "firewall/nftables_firewall.hpp"

namespace exim_ban {
namespace {

// Opens the kernel's table, reads it and hands both to `act`; a kernel that
// refuses (no CAP_NET_ADMIN, no nf_tables, an unreadable table) is reported
// on `err` as exit status 1.
template <class Act>
int with_table(std::ostream& err, Act&& act) {
    try {
        NftablesFirewall firewall;
        const ListResult listing = firewall.list();
        if (listing.fault) {
            err << "exim-banctl: " << listing.fault->message << '\n';
            return 1;
        }
        return act(firewall, listing);
    } catch (const FirewallSetupError& error) {
        err << "exim-banctl: " << error.what() << '\n';
        return 1;
    }
}

} // namespace

int run_nft_list(bool json, std::ostream& out, std::ostream& err) {
    return with_table(err, [&](NftablesFirewall&, const ListResult& listing) {
        if (json)
            out << element_json(listing).dump() << '\n';
        else
            print_element_table(out, listing);
        out.flush();
        return 0;
    });
}

int run_nft_flush(std::ostream& out, std::ostream& err) {
    // Listing first tells "nothing to remove" apart from "removed".
    return with_table(err, [&](NftablesFirewall& firewall, const ListResult& listing) {
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
    });
}

} // namespace exim_ban
