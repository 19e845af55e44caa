/* Host links over rtnetlink (RFC 3549; linux/rtnetlink.h): one request, one
 * answer, on a socket opened for the request. */
#include "devices/net/bridge.h"

#include <errno.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define NL_BUF 32768

struct nl_req {
	struct nlmsghdr h;
	struct ifinfomsg ifi;
	uint8_t attrs[512];
};

static struct rtattr *nl_tail(struct nlmsghdr *h)
{
	return (struct rtattr *)((uint8_t *)h + NLMSG_ALIGN(h->nlmsg_len));
}

static void nl_attr(struct nl_req *r, unsigned short type, const void *data, size_t len)
{
	struct rtattr *a = nl_tail(&r->h);
	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
	r->h.nlmsg_len = NLMSG_ALIGN(r->h.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

static struct rtattr *nl_nest(struct nl_req *r, unsigned short type)
{
	struct rtattr *a = nl_tail(&r->h);
	nl_attr(r, type, NULL, 0);
	return a;
}

static void nl_nest_end(struct nl_req *r, struct rtattr *a)
{
	a->rta_len = (unsigned short)((uint8_t *)nl_tail(&r->h) - (uint8_t *)a);
}

static void nl_init(struct nl_req *r, uint16_t type, uint16_t flags, int ifindex)
{
	memset(r, 0, sizeof(*r));
	r->h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
	r->h.nlmsg_type = type;
	r->h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	r->h.nlmsg_seq = 1;
	r->ifi.ifi_family = AF_UNSPEC;
	r->ifi.ifi_index = ifindex;
}

/* Sends the request; a link message in the answer is copied to reply (if
 * given). Returns the kernel's answer: 0 or -errno. */
static int nl_talk(struct nl_req *r, void *reply, size_t replen)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	int ret = -EIO;
	if (sendto(fd, r, r->h.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
		ret = -errno;
		goto out;
	}
	uint8_t buf[NL_BUF] __attribute__((aligned(NLMSG_ALIGNTO)));
	bool got_reply = false;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			goto out;
		}
		size_t left = (size_t)n;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, left);
		     h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_seq != r->h.nlmsg_seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr)))
					goto out;
				const struct nlmsgerr *e = NLMSG_DATA(h);
				ret = e->error;
				if (ret == 0 && reply && !got_reply)
					ret = -EIO;
				goto out;
			}
			if (h->nlmsg_type == RTM_NEWLINK && reply && !got_reply &&
			    h->nlmsg_len <= replen &&
			    h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct ifinfomsg))) {
				memcpy(reply, h, h->nlmsg_len);
				got_reply = true;
			}
			if (h->nlmsg_type == NLMSG_DONE)
				goto out;
		}
	}
out:
	close(fd);
	return ret;
}

static void parse_link(const struct nlmsghdr *h, struct bridge_link *out)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	out->ifindex = ifi->ifi_index;
	out->up = (ifi->ifi_flags & IFF_UP) != 0;
	int left = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*ifi));
	for (const struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, left); a = RTA_NEXT(a, left)) {
		if (a->rta_type == IFLA_MASTER && RTA_PAYLOAD(a) >= sizeof(uint32_t)) {
			uint32_t m;
			memcpy(&m, RTA_DATA(a), sizeof(m));
			out->master = (int)m;
		} else if (a->rta_type == IFLA_LINKINFO) {
			int in = (int)RTA_PAYLOAD(a);
			for (const struct rtattr *b = RTA_DATA(a); RTA_OK(b, in);
			     b = RTA_NEXT(b, in))
				if (b->rta_type == IFLA_INFO_KIND && RTA_PAYLOAD(b) >= 6 &&
				    !memcmp(RTA_DATA(b), "bridge", 6) &&
				    (RTA_PAYLOAD(b) == 6 || ((const char *)RTA_DATA(b))[6] == 0))
					out->is_bridge = true;
		}
	}
}

int bridge_link_get(const char *name, struct bridge_link *out)
{
	size_t n = strlen(name);
	if (!n || n >= IFNAMSIZ)
		return -EINVAL;
	struct nl_req r;
	nl_init(&r, RTM_GETLINK, 0, 0);
	nl_attr(&r, IFLA_IFNAME, name, n + 1);
	static _Thread_local uint8_t reply[NL_BUF] __attribute__((aligned(NLMSG_ALIGNTO)));
	int ret = nl_talk(&r, reply, sizeof(reply));
	if (ret < 0)
		return ret;
	memset(out, 0, sizeof(*out));
	parse_link((const struct nlmsghdr *)reply, out);
	return 0;
}

int bridge_link_up(int ifindex)
{
	struct nl_req r;
	nl_init(&r, RTM_NEWLINK, 0, ifindex);
	r.ifi.ifi_flags = IFF_UP;
	r.ifi.ifi_change = IFF_UP;
	return nl_talk(&r, NULL, 0);
}

int bridge_set_master(int ifindex, int bridge_ifindex)
{
	struct nl_req r;
	nl_init(&r, RTM_NEWLINK, 0, ifindex);
	uint32_t m = (uint32_t)bridge_ifindex;
	nl_attr(&r, IFLA_MASTER, &m, sizeof(m));
	return nl_talk(&r, NULL, 0);
}

int bridge_link_delete(int ifindex)
{
	struct nl_req r;
	nl_init(&r, RTM_DELLINK, 0, ifindex);
	return nl_talk(&r, NULL, 0);
}

int bridge_ensure(const char *name, int *ifindex)
{
	struct bridge_link l;
	int ret = bridge_link_get(name, &l);
	if (ret == -ENODEV) {
		struct nl_req r;
		nl_init(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
		nl_attr(&r, IFLA_IFNAME, name, strlen(name) + 1);
		struct rtattr *info = nl_nest(&r, IFLA_LINKINFO);
		nl_attr(&r, IFLA_INFO_KIND, "bridge", 6);
		nl_nest_end(&r, info);
		ret = nl_talk(&r, NULL, 0);
		if (ret < 0 && ret != -EEXIST) /* EEXIST: another worker made it meanwhile */
			return ret;
		ret = bridge_link_get(name, &l);
	}
	if (ret < 0)
		return ret;
	if (!l.is_bridge)
		return -ENOTTY;
	if (!l.up) {
		ret = bridge_link_up(l.ifindex);
		if (ret < 0)
			return ret;
	}
	*ifindex = l.ifindex;
	return 0;
}
