/* netlink_fault_shim.so: LD_PRELOAD into exim-band to make nf_tables refuse
 * from the process's side. While the file named by EXIM_BAN_NETLINK_FAULT
 * exists, sendto(), sendmsg() and recvmsg() on NETLINK_NETFILTER sockets
 * fail with the errno its first line names (ENOBUFS, EPERM, EIO, ENOMEM;
 * ENOBUFS when empty or unknown). Every other socket, and every call while
 * the file is absent, goes to the C library untouched. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

static int fault_errno(int fd) {
    const char* control = getenv("EXIM_BAN_NETLINK_FAULT");
    if (control == NULL)
        return 0;
    int domain = 0, protocol = 0;
    socklen_t length = sizeof domain;
    if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &length) != 0 || domain != AF_NETLINK)
        return 0;
    length = sizeof protocol;
    if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &length) != 0 ||
        protocol != NETLINK_NETFILTER)
        return 0;
    FILE* file = fopen(control, "re");
    if (file == NULL)
        return 0;
    char name[32] = "";
    if (fgets(name, sizeof name, file) == NULL)
        name[0] = '\0';
    fclose(file);
    name[strcspn(name, "\n")] = '\0';
    static const struct {
        const char* name;
        int value;
    } known[] = {{"EPERM", EPERM}, {"EIO", EIO}, {"ENOMEM", ENOMEM}, {"ENOBUFS", ENOBUFS}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; ++i)
        if (strcmp(name, known[i].name) == 0)
            return known[i].value;
    return ENOBUFS;
}

#define NEXT(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

ssize_t sendto(int fd, const void* buffer, size_t length, int flags, const struct sockaddr* address,
               socklen_t address_length) {
    const int error = fault_errno(fd);
    if (error != 0) {
        errno = error;
        return -1;
    }
    return NEXT(sendto)(fd, buffer, length, flags, address, address_length);
}

ssize_t sendmsg(int fd, const struct msghdr* message, int flags) {
    const int error = fault_errno(fd);
    if (error != 0) {
        errno = error;
        return -1;
    }
    return NEXT(sendmsg)(fd, message, flags);
}

ssize_t recvmsg(int fd, struct msghdr* message, int flags) {
    const int error = fault_errno(fd);
    if (error != 0) {
        errno = error;
        return -1;
    }
    return NEXT(recvmsg)(fd, message, flags);
}
