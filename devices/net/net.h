/* Network ports: what joins a network adapter model (e1000, virtio-net) to a
 * virtual switch (NAT over libslirp, private, internal/external over TAP, or
 * a socket a test hands in). An adapter owns one port; the port owns the
 * connection to the switch, which can change while the VM runs. Frames carry
 * the virtio-net header's offload metadata (as Linux tun does), so a switch
 * that understands it gets checksum and segmentation work passed through and
 * any other gets complete frames. */
#ifndef OSIO_NET_H
#define OSIO_NET_H

#include "devices/device.h"
#include "hypervisor/machine.h"

#include <limits.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define NET_MAC_LEN	 6
#define NET_ETH_HLEN	 14
#define NET_ETH_MIN	 14 /* a frame shorter than its Ethernet header is malformed */
#define NET_MTU		 1500
#define NET_FRAME_MAX	 1522  /* a complete frame: MTU + header + one VLAN tag + ... (no FCS) */
#define NET_GSO_MAX	 65550 /* the largest frame with segmentation left to do (64 KiB + header) */
#define NET_NAME_MAX	 64    /* a switch's name, with its NUL */
#define NET_IFNAME_MAX	 16    /* IFNAMSIZ */
#define NET_FORWARDS_MAX 16

/* The prefix of every MAC address osio generates (a locally administered
 * unicast prefix: "ROS"). */
#define NET_MAC_PREFIX0 0x52
#define NET_MAC_PREFIX1 0x4f
#define NET_MAC_PREFIX2 0x53

/* Offload metadata of one frame: the fields of struct virtio_net_hdr (VIRTIO
 * 1.2, 5.1.6), host byte order. All zeroes: a complete frame. */
#define NET_HDR_F_NEEDS_CSUM 1 /* the checksum at csum_start + csum_offset is to be finished */
#define NET_HDR_F_DATA_VALID 2 /* receive: the checksums were checked */
#define NET_HDR_GSO_NONE     0
#define NET_HDR_GSO_TCPV4    1
#define NET_HDR_GSO_UDP	     3
#define NET_HDR_GSO_TCPV6    4
#define NET_HDR_GSO_ECN	     0x80
struct net_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;  /* bytes of headers (Ethernet + IP + TCP/UDP) of each segment */
	uint16_t gso_size; /* payload bytes of each segment but the last */
	uint16_t csum_start;
	uint16_t csum_offset;
};

/* The kinds of virtual switch (Hyper-V's, plus a socket for tests). */
enum net_switch_kind {
	NET_SWITCH_NONE,     /* not connected: the adapter's link is down */
	NET_SWITCH_NAT,	     /* libslirp: DHCP, DNS, TFTP, NAT to the host's network */
	NET_SWITCH_PRIVATE,  /* VMs on the same private switch, nothing else; no privileges */
	NET_SWITCH_INTERNAL, /* a TAP device on a host bridge: the host and VMs */
	NET_SWITCH_EXTERNAL, /* as internal, with the bridge also holding a host NIC */
	NET_SWITCH_FD,	     /* a connected datagram socket (or socketpair) given by fd: tests */
};

/* A host port forward of a NAT switch: connections to host_addr:host_port
 * reach guest_addr:guest_port (guest_addr 0: the first address the switch's
 * DHCP server hands out). */
struct net_forward {
	int proto;		  /* IPPROTO_TCP or IPPROTO_UDP */
	struct in_addr host_addr; /* INADDR_ANY: every host address */
	uint16_t host_port;
	struct in_addr guest_addr;
	uint16_t guest_port;
};

/* Everything one adapter needs to join a switch: the switch's definition
 * (from the VM store, or built-in for "default") plus the adapter's own
 * settings (port forwards, TFTP). */
struct net_switch_cfg {
	enum net_switch_kind kind;
	char name[NET_NAME_MAX]; /* for messages; the rendezvous of a private switch */
	/* NAT: the guest network (default 10.0.2.0/24, the host at .2, DNS at .3,
	 * DHCP from .15, as QEMU's user networking), forwards and TFTP. */
	struct in_addr subnet, netmask;
	struct net_forward fwd[NET_FORWARDS_MAX];
	unsigned nfwd;
	char tftp[PATH_MAX]; /* "" = no TFTP server */
	char bootfile[256];  /* DHCP's boot file name, "" = none */
	bool restricted;     /* NAT: the guest reaches only the host (no outside network) */
	/* Internal/external: the bridge and, for external, the host NIC on it. */
	char bridge[NET_IFNAME_MAX];
	char uplink[NET_IFNAME_MAX];
	/* NET_SWITCH_FD: the socket (the port takes it over and closes it). */
	int fd;
};

/* devargs keys of the port, for an adapter model's devargs_check_keys list:
 *   mac=52:4f:53:xx:xx:xx   the adapter's address (required)
 *   switch=none|nat|private|internal|external|fd   (default none)
 *   switch_name=NAME     the switch's name
 *   subnet=10.0.2.0/24   NAT: the guest network
 *   forward=SPEC;SPEC    NAT: forwards, "tcp:127.0.0.1:2222 -> 22" each (net_forward_parse)
 *   tftp=DIR, bootfile=NAME, restrict=on|off   NAT
 *   bridge=IF, uplink=IF internal/external
 *   fd=N                 fd: a connected SOCK_DGRAM or SOCK_SEQPACKET socket */
#define NET_PORT_KEYS                                                                              \
	"mac", "switch", "switch_name", "subnet", "forward", "tftp", "bootfile", "restrict",       \
	    "bridge", "uplink", "fd"

/* Counters of one port (also what the control API's stats report). rx is
 * toward the guest, tx from it. */
struct net_port_stats {
	uint64_t rx_frames, rx_bytes, rx_dropped; /* dropped: the adapter had no room, queue full */
	uint64_t tx_frames, tx_bytes, tx_dropped; /* dropped: link down, or the switch refused */
	uint64_t guest_errors; /* malformed descriptors, frames too short or too long, bad rings */
};

struct net_port;

#define NET_RX_DROPPED 1

/* What an adapter model provides. */
struct net_adapter_ops {
	/* A frame for the guest (complete: hdr->gso_type is NONE; DATA_VALID
	 * may be set). Return 0 when the adapter took it (or dropped it, having
	 * counted why), or -EAGAIN when it has no receive buffers now: the port
	 * queues this frame and later ones and offers them again after the
	 * adapter calls net_port_wake. NET_RX_DROPPED: the adapter dropped it
	 * (filtered, driver not running), counted as rx_dropped. Called from the switch's thread
	 * (any thread, one at a time per port), never with a port lock held that net_port_* calls
	 * would take. */
	int (*receive)(void *opaque, const struct net_hdr *hdr, const struct iovec *iov,
		       unsigned iovcnt, size_t len);
	/* The link went up (connected to a working switch) or down (not
	 * connected, or the switch went away). Any thread. May be NULL. */
	void (*link_changed)(void *opaque, bool up);
};

/* Creates the port from an adapter's devargs (NET_PORT_KEYS) and connects it
 * to the switch they name. A switch that cannot be joined (no permission,
 * libslirp failed) is an error: one line is logged naming id and the fix, and
 * -errno returned. */
int net_port_create(struct machine *m, const char *id, const struct devargs *args,
		    const struct net_adapter_ops *ops, void *opaque, struct net_port **out);
/* Disconnects and frees. The adapter makes sure it sends nothing after
 * this begins; receive is not called once it returns. NULL is ignored. */
void net_port_destroy(struct net_port *p);

/* The port an adapter with this device id created on m (the control API's
 * nic-connect), or NULL. */
struct net_port *net_port_find(struct machine *m, const char *id);
void net_port_mac(const struct net_port *p, uint8_t mac[NET_MAC_LEN]);
/* The switch the port is on now (kind NONE when disconnected). */
void net_port_switch(const struct net_port *p, struct net_switch_cfg *out);
/* Whether the port is connected to a working switch. */
bool net_port_link_up(const struct net_port *p);
/* Whether the switch takes frames with offload work left (NEEDS_CSUM, GSO)
 * as they are; either way net_port_send accepts them. An adapter may use it
 * to decide what to offer its driver. */
bool net_port_offloads(const struct net_port *p);

/* A frame from the guest: iov holds the Ethernet frame (no virtio header),
 * hdr its offload metadata (NULL: complete). The port finishes checksums and
 * segments it in software when the switch needs complete frames. Returns 0
 * (sent, or dropped and counted: link down, switch full) or -EINVAL for a
 * frame that is malformed (too short, too long, offload fields pointing
 * outside it), counted as a guest error; the adapter drops it either way.
 * Any thread; the frame's memory is not used after return. */
int net_port_send(struct net_port *p, const struct net_hdr *hdr, const struct iovec *iov,
		  unsigned iovcnt);
/* The adapter has receive buffers again after refusing a frame with
 * -EAGAIN: queued frames are offered now (from this thread) and the switch
 * resumes. The adapter must not hold a lock that its receive takes. Any
 * thread. */
void net_port_wake(struct net_port *p);
/* Paused (the VM is paused or being saved): the adapter's receive is not
 * called (one running now finishes first); frames from the switch wait in
 * the port's queue, or are dropped and counted as rx_dropped when it is
 * full, and the switch keeps running. Going on offers the queued frames to
 * the adapter (from this thread, as net_port_wake does). From the adapter's
 * pause hook; not from its receive callback. */
void net_port_pause(struct net_port *p, bool paused);
/* The adapter counts a malformed descriptor or frame from its guest. */
void net_port_guest_error(struct net_port *p);
/* A backend that had to drop a frame for the guest (its own queue full). */
void net_port_rx_dropped(struct net_port *p);
void net_port_stats(const struct net_port *p, struct net_port_stats *out);

/* Moves the port to another switch (a running VM's adapter; the control
 * API). The old connection is closed first; on failure the port stays
 * disconnected, link down, and -errno is returned with one line logged.
 * kind NONE disconnects. Not from the adapter's receive callback. */
int net_port_connect(struct net_port *p, const struct net_switch_cfg *cfg);

/* The switch configuration from an adapter's devargs (the keys above).
 * -EINVAL with a message in err naming the key and the fix. */
int net_switch_cfg_from_args(const struct devargs *args, struct net_switch_cfg *cfg, char *err,
			     size_t errlen);
void net_switch_cfg_defaults(struct net_switch_cfg *cfg, enum net_switch_kind kind,
			     const char *name);
const char *net_switch_kind_name(enum net_switch_kind kind);
/* "nat", "private", ... back to the kind; -EINVAL for anything else. */
int net_switch_kind_parse(const char *text, enum net_switch_kind *out);

/* A forward as the vmconfig writes it: "tcp:127.0.0.1:2222 -> 22",
 * "udp::5555 -> 10.0.2.15:5555", "tcp:2222 -> 22" (host address 127.0.0.1 when
 * omitted). -EINVAL with a message in err that shows the right form. */
int net_forward_parse(const char *text, struct net_forward *out, char *err, size_t errlen);
/* Back to that form (for messages and the vmconfig writer). */
void net_forward_format(const struct net_forward *f, char *buf, size_t size);

/* "10.0.2.0/24": an IPv4 network with no host bits set, prefix 8-30
 * (-EINVAL otherwise); and back. */
int net_subnet_parse(const char *text, struct in_addr *net, struct in_addr *mask);
void net_subnet_format(struct in_addr net, struct in_addr mask, char *buf, size_t size);

/* "52:4f:53:01:02:03" to bytes: -EINVAL unless six hex pairs and unicast. */
int net_mac_parse(const char *text, uint8_t mac[NET_MAC_LEN]);
void net_mac_format(const uint8_t mac[NET_MAC_LEN], char buf[18]);
/* A new random address with osio's prefix (getrandom). */
void net_mac_generate(uint8_t mac[NET_MAC_LEN]);

#endif
