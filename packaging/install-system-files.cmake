# Part of `cmake --install`: the /etc/exim-ban tree (exim-ban.conf, conf.d/,
# filters.d/ from filters/) and the systemd unit, tmpfiles.d and sysusers.d
# entries. Run at install time because the paths depend on the prefix given
# then; the top CMakeLists.txt sets exim_ban_source_dir, exim_ban_binary_dir,
# exim_ban_sbindir and exim_ban_sysconfdir (GNUInstallDirs' values) and
# exim_ban_distro_unit_dir (systemd.pc's, may be empty) first.

# Without its trailing slashes, so "/" is "".
string(REGEX REPLACE "/+$" "" prefix "${CMAKE_INSTALL_PREFIX}")

# GNUInstallDirs' rule for the full sysconfdir, applied to this prefix: /usr
# and / keep their configuration in /etc, where the binaries look by default.
if(IS_ABSOLUTE "${exim_ban_sysconfdir}")
  set(sysconfdir "${exim_ban_sysconfdir}")
elseif(prefix STREQUAL "/usr" OR prefix STREQUAL "")
  set(sysconfdir "/${exim_ban_sysconfdir}")
else()
  set(sysconfdir "${prefix}/${exim_ban_sysconfdir}")
endif()
if(IS_ABSOLUTE "${exim_ban_sbindir}")
  set(sbindir "${exim_ban_sbindir}")
else()
  set(sbindir "${prefix}/${exim_ban_sbindir}")
endif()
# The prefix /usr installs for the distribution's own systemd (and
# dh_installsystemd looks for units in Debian's place only).
if(prefix STREQUAL "/usr" AND exim_ban_distro_unit_dir)
  set(unit_dir "${exim_ban_distro_unit_dir}")
else()
  set(unit_dir "${prefix}/lib/systemd/system")
endif()

set(config_dir "${sysconfdir}/exim-ban")
set(readable FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
    DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
    WORLD_READ WORLD_EXECUTE)

# An exim-ban.conf already there may hold the admin's changes: the new one
# goes beside it as exim-ban.conf.new rather than over it.
set(shipped_config "${exim_ban_source_dir}/packaging/etc/exim-ban/exim-ban.conf")
set(installed_config "$ENV{DESTDIR}${config_dir}/exim-ban.conf")
set(config_name exim-ban.conf)
if(EXISTS "${installed_config}")
  file(SHA256 "${shipped_config}" shipped_hash)
  file(SHA256 "${installed_config}" installed_hash)
  if(NOT shipped_hash STREQUAL installed_hash)
    set(config_name exim-ban.conf.new)
    message(STATUS "Keeping ${installed_config}; the shipped one is ${config_name} beside it")
  endif()
endif()
file(INSTALL "${shipped_config}" DESTINATION "${config_dir}" RENAME ${config_name} ${readable})
file(INSTALL "${exim_ban_source_dir}/packaging/etc/exim-ban/conf.d" DESTINATION "${config_dir}"
     ${readable})
# exim-band looks for filters in filters.d beside its config file.
file(INSTALL "${exim_ban_source_dir}/filters/" DESTINATION "${config_dir}/filters.d" ${readable})

# The unit names the daemon's path, and its config when it is not where the
# binaries look by default.
file(READ "${exim_ban_source_dir}/systemd/exim-ban.service" unit)
string(REPLACE "ExecStart=/usr/sbin/exim-band --foreground"
               "ExecStart=${sbindir}/exim-band --foreground" unit "${unit}")
if(NOT config_dir STREQUAL "/etc/exim-ban")
  string(REPLACE "ExecStart=${sbindir}/exim-band --foreground"
                 "ExecStart=${sbindir}/exim-band --foreground --config ${config_dir}/exim-ban.conf"
                 unit "${unit}")
endif()
set(staged "${exim_ban_binary_dir}/install-staging")
file(WRITE "${staged}/exim-ban.service" "${unit}")
file(INSTALL "${staged}/exim-ban.service" DESTINATION "${unit_dir}" ${readable})
file(INSTALL "${exim_ban_source_dir}/systemd/exim-ban.tmpfiles"
     DESTINATION "${prefix}/lib/tmpfiles.d" RENAME exim-ban.conf ${readable})
file(INSTALL "${exim_ban_source_dir}/systemd/exim-ban.sysusers"
     DESTINATION "${prefix}/lib/sysusers.d" RENAME exim-ban.conf ${readable})
