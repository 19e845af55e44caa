/* Host links over rtnetlink, for the internal and external switches: Linux
 * bridges made and brought up, ports (TAP devices, host NICs) put on them.
 * All in the calling thread's network namespace; -errno on failure (-EPERM
 * without CAP_NET_ADMIN). */
#ifndef OSIO_NET_BRIDGE_H
#define OSIO_NET_BRIDGE_H

#include <stdbool.h>

/* What the kernel says about a link. */
struct bridge_link {
	int ifindex;
	int master; /* the bridge it is on, 0 if none */
	bool up;
	bool is_bridge;
};

/* The link called name: -ENODEV if there is none. */
int bridge_link_get(const char *name, struct bridge_link *out);
/* The bridge called name, made if there is none, and up. -ENOTTY when a
 * link of that name exists but is not a bridge. */
int bridge_ensure(const char *name, int *ifindex);
/* Puts link ifindex on the bridge (0: takes it off its bridge). */
int bridge_set_master(int ifindex, int bridge_ifindex);
int bridge_link_up(int ifindex);
int bridge_link_delete(int ifindex);

#endif
