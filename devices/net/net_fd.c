/* The socket switch: frames go to and come from a connected datagram or
 * seqpacket socket the caller hands in (switch=fd,fd=N), one frame per
 * datagram. The device harness tests play the network on its other end. */
#include "devices/net/net_switch.h"
#include "hypervisor/evloop.h"
#include "hypervisor/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct fd_switch {
	struct net_port *port;
	struct evloop *loop;
	int fd;
	uint8_t buf[NET_GSO_MAX];
};

static void fd_readable(void *opaque, uint32_t events)
{
	struct fd_switch *s = opaque;
	for (int i = 0; i < 64; i++) {
		ssize_t n = recv(s->fd, s->buf, sizeof(s->buf), MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			net_port_switch_down(s->port, "the socket failed");
			evloop_mod_fd(s->loop, s->fd, 0);
			return;
		}
		if (n == 0 && (events & (EPOLLHUP | EPOLLRDHUP))) {
			net_port_switch_down(s->port, "the other end closed the socket");
			evloop_mod_fd(s->loop, s->fd, 0);
			return;
		}
		/* A datagram longer than the buffer was truncated: the length check drops it. */
		struct iovec v = {s->buf, (size_t)n > sizeof(s->buf) ? sizeof(s->buf) : (size_t)n};
		if (net_port_deliver(s->port, NULL, &v, 1, (size_t)n) == -EAGAIN) {
			/* The adapter is full: read again when it says so (resume). */
			evloop_mod_fd(s->loop, s->fd, 0);
			return;
		}
	}
}

static int fd_open(struct net_port *p, const struct net_switch_cfg *cfg, void **state)
{
	int type = 0;
	socklen_t tl = sizeof(type);
	if (getsockopt(cfg->fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 ||
	    (type != SOCK_DGRAM && type != SOCK_SEQPACKET)) {
		log_error("%s: fd=%d is not a datagram or seqpacket socket", net_port_id(p),
			  cfg->fd);
		return -EINVAL;
	}
	struct fd_switch *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->port = p;
	s->loop = net_port_machine(p)->loop;
	s->fd = cfg->fd;
	fcntl(s->fd, F_SETFL, fcntl(s->fd, F_GETFL) | O_NONBLOCK);
	int r = evloop_add_fd(s->loop, s->fd, EPOLLIN, fd_readable, s);
	if (r < 0) {
		log_error("%s: cannot watch fd=%d: %s", net_port_id(p), cfg->fd, strerror(-r));
		free(s);
		return r;
	}
	*state = s;
	return 0;
}

static int fd_send(void *state, const struct net_hdr *hdr, const struct iovec *iov, unsigned iovcnt,
		   size_t len)
{
	struct fd_switch *s = state;
	struct msghdr msg = {.msg_iov = (struct iovec *)iov, .msg_iovlen = iovcnt};
	ssize_t n = sendmsg(s->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	return n < 0 ? -errno : 0;
}

static void fd_resume(void *state)
{
	struct fd_switch *s = state;
	evloop_mod_fd(s->loop, s->fd, EPOLLIN);
}

static void fd_close(void *state)
{
	struct fd_switch *s = state;
	evloop_del_fd(s->loop, s->fd);
	close(s->fd);
	free(s);
}

const struct net_switch_ops net_switch_fd = {
    .kind = NET_SWITCH_FD,
    .offloads = false,
    .open = fd_open,
    .send = fd_send,
    .resume = fd_resume,
    .close = fd_close,
};
