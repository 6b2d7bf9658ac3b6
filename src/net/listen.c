#include "net/listen.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "common/log.h"

int
listener_open(struct listener *ls, const char *addr, uint16_t port, bool tls,
    struct wsd_err *err)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr,
		&((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sslen = sizeof(*sin);
	} else if (inet_pton(AF_INET6, addr,
		       &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		sslen = sizeof(*sin6);
	} else {
		log_warnx("%s: not a numeric address", addr);
		return wsd_fail(err, WSD_EINVAL, "bad listen address");
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd < 0) {
		log_warn("socket for %s port %u", addr, port);
		return wsd_fail(err, WSD_EIO, "cannot create socket");
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
		    sizeof(one));
	/* No TCP_DEFER_ACCEPT: a silent client must meet our handshake
	 * and header deadlines, not wait unseen in the kernel first. */
	if (bind(fd, (struct sockaddr *)&ss, sslen) < 0) {
		log_warn("bind %s port %u", addr, port);
		close(fd);
		return wsd_fail(err, WSD_EIO, "cannot bind listen address");
	}
	if (listen(fd, 1024) < 0) {
		log_warn("listen %s port %u", addr, port);
		close(fd);
		return wsd_fail(err, WSD_EIO, "cannot listen");
	}
	ls->ls_fd = fd;
	ls->ls_tls = tls;
	ls->ls_port = port;
	snprintf(ls->ls_addr, sizeof(ls->ls_addr), "%s", addr);
	return 0;
}

bool
listener_same(const struct listener *a, const char *addr, uint16_t port,
    bool tls)
{
	return a->ls_port == port && a->ls_tls == tls &&
	    strcmp(a->ls_addr, addr) == 0;
}
