#include "import/fail2ban_jail_files.hpp"

#include "core/load_error.hpp"
#include "filter/ini_includes.hpp"

namespace exim_ban {
namespace {

std::vector<std::filesystem::path> with_extension(const std::vector<std::filesystem::path>& paths,
                                                  const std::string& extension) {
    std::vector<std::filesystem::path> kept;
    for (const auto& path : paths) {
        if (path.extension() == extension)
            kept.push_back(path);
    }
    return kept;
}

} // namespace

Fail2banJailFiles read_fail2ban_jail_files(const std::filesystem::path& given,
                                           const TextFileReader& files) {
    if (!files.read(given))
        throw LoadError(given.string(), 0,
                        "no such file; give fail2ban's jail.conf or jail.local with --jail-conf");
    std::vector<std::filesystem::path> order{given};
    if (given.extension() == ".conf" || given.extension() == ".local") {
        std::filesystem::path base = given;
        base.replace_extension();
        const std::vector<std::filesystem::path> dropins = files.list(base.string() + ".d");
        order = {base.string() + ".conf"};
        for (const auto& path : with_extension(dropins, ".conf"))
            order.push_back(path);
        order.push_back(base.string() + ".local");
        for (const auto& path : with_extension(dropins, ".local"))
            order.push_back(path);
    }

    Fail2banJailFiles result;
    IniIncludeReader reader(files, result.sections);
    for (const auto& path : order)
        reader.read(path, false, "");
    for (const auto& path : reader.files_read())
        result.files.push_back(path.string());
    return result;
}

} // namespace exim_ban
