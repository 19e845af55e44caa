/* virtio-net and a hostile driver: malformed transmit headers and frames,
 * receive chains with no room, control commands of the wrong size, broken
 * rings, resets with buffers held, bad device arguments. Each bad frame is
 * dropped and counted, and its chain goes back to the driver. */
#include "tests/devices/virtio_net_driver.h"

#include <fcntl.h>
#include <stdlib.h>

/* Sends hdr + frame; the chain comes back, nothing reaches the network,
 * and one more guest error is counted. */
static void tx_rejected(struct vn *v, const uint8_t *h, const uint8_t *f, size_t len)
{
	uint8_t got[256];
	uint64_t before = vn_stats(v).guest_errors;
	vn_tx(v, 0, h, f, len);
	assert_int_equal(vn_net_recv(v, got, sizeof(got), 10), -1);
	assert_int_equal(vn_stats(v).guest_errors, before + 1);
}

static void test_tx_bad_frames(void **state)
{
	(void)state;
	struct vn *v = vn_create(NULL);
	/* CSUM and TSO4, but no TSO6 or ECN. */
	assert_true(vn_start(v, VN_BIT(VN_F_CSUM) | VN_BIT(VN_F_HOST_TSO4), 1));
	static uint8_t f[70000];
	uint8_t h[12], got[256];
	size_t len = vn_frame(f, vn_peer, vn_mac, 6, 1, 2, 3000, 0, true);

	vn_hdr(h, 0, 0, 0, 0, 0, 0);
	tx_rejected(v, h, f, 10);		 /* shorter than an Ethernet header */
	tx_rejected(v, h, f, NET_FRAME_MAX + 1); /* too long without GSO */
	vn_hdr(h, NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 100, 16);
	tx_rejected(v, h, f, 110); /* checksum field past the end */
	vn_hdr(h, NET_HDR_F_NEEDS_CSUM, NET_HDR_GSO_TCPV6, 54, 1000, 34, 16);
	tx_rejected(v, h, f, len); /* TSO6 not negotiated */
	vn_hdr(h, NET_HDR_F_NEEDS_CSUM, NET_HDR_GSO_TCPV4 | NET_HDR_GSO_ECN, 54, 1000, 34, 16);
	tx_rejected(v, h, f, len); /* ECN not negotiated */
	vn_hdr(h, 0, NET_HDR_GSO_ECN, 0, 0, 0, 0);
	tx_rejected(v, h, f, 100); /* ECN not negotiated (and no GSO) */
	vn_hdr(h, NET_HDR_F_NEEDS_CSUM, NET_HDR_GSO_UDP, 42, 1000, 34, 6);
	tx_rejected(v, h, f, len); /* UFO is not offered */
	vn_hdr(h, NET_HDR_F_NEEDS_CSUM, 7, 54, 1000, 34, 16);
	tx_rejected(v, h, f, len); /* no such GSO type */
	vn_hdr(h, NET_HDR_F_NEEDS_CSUM, NET_HDR_GSO_TCPV4, 54, 0, 34, 16);
	tx_rejected(v, h, f, len); /* gso_size 0 */
	vn_hdr(h, NET_HDR_F_NEEDS_CSUM, NET_HDR_GSO_TCPV4, 5000, 1000, 34, 16);
	tx_rejected(v, h, f, len); /* hdr_len past the end */
	vn_hdr(h, NET_HDR_F_NEEDS_CSUM, NET_HDR_GSO_TCPV4, 54, 1000, 34, 16);
	memset(f + len, 0, 66000 - len);
	tx_rejected(v, h, f, 66000); /* larger than any GSO frame */
	/* Segments that would not fit a frame: the port's offload refuses. */
	vn_hdr(h, NET_HDR_F_NEEDS_CSUM, NET_HDR_GSO_TCPV4, 54, 2000, 34, 16);
	tx_rejected(v, h, f, len);

	/* A header shorter than its size: one 6-byte descriptor. */
	struct vdrv_queue *q = &v->q[1];
	uint64_t before = vn_stats(v).guest_errors;
	struct vdrv_buf b = {VN_TXBUF, 6, false};
	assert_true(vdrv_add(&v->d, q, &b, 1, 0) >= 0);
	vdrv_kick(&v->d, q);
	assert_true(vdrv_wait_used(&v->d, q, 1, 1000));
	uint16_t head;
	uint32_t used;
	assert_true(vdrv_get_used(&v->d, q, &head, &used));
	assert_int_equal(vn_stats(v).guest_errors, before + 1);

	/* The queue still works. */
	len = vn_frame(f, vn_peer, vn_mac, 17, 1, 2, 20, 0, false);
	vn_hdr(h, 0, 0, 0, 0, 0, 0);
	vn_tx(v, 0, h, f, len);
	assert_int_equal(vn_net_recv(v, got, sizeof(got), 1000), (ssize_t)len);
	assert_int_equal(vn_stats(v).tx_frames, 1);
	vn_free(v);
}

/* NEEDS_CSUM without CSUM negotiated is a driver bug: dropped. */
static void test_tx_csum_not_negotiated(void **state)
{
	(void)state;
	struct vn *v = vn_create(NULL);
	assert_true(vn_start(v, 0, 1));
	uint8_t f[256], h[12];
	size_t len = vn_frame(f, vn_peer, vn_mac, 17, 1, 2, 20, 0, true);
	vn_hdr(h, NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 34, 6);
	tx_rejected(v, h, f, len);
	vn_free(v);
}

/* Receive chains with no room for the header are given back empty and
 * counted; the frame goes to the next good buffer. */
static void test_rx_bad_chains(void **state)
{
	(void)state;
	struct vn *v = vn_create(NULL);
	assert_true(vn_start(v, VN_LINUX_FEATURES, 1));
	struct vdrv_queue *q = &v->q[0];
	struct vdrv_buf ro = {VN_SCRATCH, 64, false};	   /* readable only */
	struct vdrv_buf tiny = {VN_SCRATCH + 64, 8, true}; /* smaller than the header */
	int h1 = vdrv_add(&v->d, q, &ro, 1, 0);
	int h2 = vdrv_add(&v->d, q, &tiny, 1, 0);
	assert_true(h1 >= 0 && h2 >= 0);
	vn_rx_post(v, 0, 1, 1536);
	uint8_t f[256];
	size_t len = vn_frame(f, vn_mac, vn_peer, 17, 53, 1000, 30, 1, false);
	vn_net_send(v, f, len);
	assert_true(vdrv_wait_used(&v->d, q, 3, 1000));
	uint16_t head;
	uint32_t n;
	assert_true(vdrv_get_used(&v->d, q, &head, &n));
	assert_int_equal(head, h1);
	assert_int_equal(n, 0);
	assert_true(vdrv_get_used(&v->d, q, &head, &n));
	assert_int_equal(head, h2);
	assert_int_equal(n, 0);
	uint8_t *b = vn_rx_used(v, 0, &n);
	assert_int_equal(n, 12 + len);
	assert_memory_equal(b + 12, f, len);
	assert_int_equal(vn_stats(v).guest_errors, 2);
	vn_free(v);
}

static void test_ctrl_bad_commands(void **state)
{
	(void)state;
	struct vn *v = vn_create("queues=2");
	assert_true(vn_start(v, VN_LINUX_FEATURES, 2));
	uint8_t data[64] = {0};

	/* Wrong lengths: an error ack, counted. */
	assert_int_equal(vn_ctrl(v, VN_CTRL_RX, VN_CTRL_RX_PROMISC, data, 2), VN_ERR);
	assert_int_equal(vn_ctrl(v, VN_CTRL_RX, VN_CTRL_RX_PROMISC, data, 0), VN_ERR);
	assert_int_equal(vn_ctrl(v, VN_CTRL_MQ, VN_CTRL_MQ_PAIRS_SET, data, 1), VN_ERR);
	assert_int_equal(vn_ctrl(v, VN_CTRL_MAC, VN_CTRL_MAC_ADDR_SET, data, 5), VN_ERR);
	assert_int_equal(vn_ctrl(v, VN_CTRL_VLAN, VN_CTRL_VLAN_ADD, data, 3), VN_ERR);
	/* A MAC table whose counts do not match its length (a huge count, a
	 * missing second list, bytes left over). */
	uint32_t huge = 0xffffffffu, one = 1, zero = 0;
	memcpy(data, &huge, 4);
	assert_int_equal(vn_ctrl(v, VN_CTRL_MAC, VN_CTRL_MAC_TABLE_SET, data, 8), VN_ERR);
	memcpy(data, &one, 4);
	assert_int_equal(vn_ctrl(v, VN_CTRL_MAC, VN_CTRL_MAC_TABLE_SET, data, 10), VN_ERR);
	memcpy(data, &zero, 4);
	memcpy(data + 4, &zero, 4);
	assert_int_equal(vn_ctrl(v, VN_CTRL_MAC, VN_CTRL_MAC_TABLE_SET, data, 9), VN_ERR);
	assert_int_equal(vn_stats(v).guest_errors, 8);
	/* Unknown classes and commands: an error ack, not a guest error. */
	assert_int_equal(vn_ctrl(v, 3, 0, NULL, 0), VN_ERR); /* ANNOUNCE: not offered */
	assert_int_equal(vn_ctrl(v, 99, 0, data, 1), VN_ERR);
	assert_int_equal(vn_ctrl(v, VN_CTRL_MQ, 1, data, 4), VN_ERR); /* RSS: not offered */
	assert_int_equal(vn_stats(v).guest_errors, 8);

	/* No ack byte, or no command header: the chain comes back empty. */
	struct vdrv_queue *q = &v->q[v->ctrl];
	uint8_t *p = hram(&v->h, VN_CTRLBUF, 4);
	p[0] = VN_CTRL_RX;
	p[1] = VN_CTRL_RX_PROMISC;
	p[2] = 0;
	struct vdrv_buf noack = {VN_CTRLBUF, 3, false};
	struct vdrv_buf nohdr[2] = {{VN_CTRLBUF, 1, false}, {VN_CTRLBUF + 0x8000, 1, true}};
	assert_true(vdrv_add(&v->d, q, &noack, 1, 0) >= 0);
	assert_true(vdrv_add(&v->d, q, nohdr, 2, 0) >= 0);
	vdrv_kick(&v->d, q);
	assert_true(vdrv_wait_used(&v->d, q, 2, 1000));
	uint16_t head;
	uint32_t used;
	for (unsigned i = 0; i < 2; i++) {
		assert_true(vdrv_get_used(&v->d, q, &head, &used));
		assert_int_equal(used, 0);
	}
	assert_int_equal(vn_stats(v).guest_errors, 10);
	/* Still working. */
	uint8_t on = 1;
	assert_int_equal(vn_ctrl(v, VN_CTRL_RX, VN_CTRL_RX_PROMISC, &on, 1), VN_OK);
	vn_free(v);
}

/* A malformed ring is the transport's: DEVICE_NEEDS_RESET, and the host
 * carries on. */
static void test_broken_ring(void **state)
{
	(void)state;
	struct vn *v = vn_create(NULL);
	assert_true(vn_start(v, VN_LINUX_FEATURES, 1));
	struct vdrv_queue *q = &v->q[1];
	vdrv_write_desc(&v->d, q->desc, 0, VN_TXBUF, 64, VDRV_DESC_F_NEXT, 999);
	vdrv_publish(&v->d, q, 0);
	vdrv_kick(&v->d, q);
	harness_run(&v->h, 20);
	assert_true(vdrv_status(&v->d) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	/* A receive descriptor pointing outside RAM, after a reset. */
	assert_true(vn_start(v, VN_LINUX_FEATURES, 1));
	q = &v->q[0];
	vdrv_write_desc(&v->d, q->desc, 0, 0x7fffffff000ull, 1536, VDRV_DESC_F_WRITE, 0);
	vdrv_publish(&v->d, q, 0);
	vdrv_kick(&v->d, q);
	uint8_t f[128];
	size_t len = vn_frame(f, vn_mac, vn_peer, 17, 53, 1000, 30, 1, false);
	vn_net_send(v, f, len);
	harness_run(&v->h, 20);
	assert_true(vdrv_status(&v->d) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	/* And after the next reset it works again. */
	assert_true(vn_start(v, VN_LINUX_FEATURES, 1));
	v->rx_slot[0] = 0;
	vn_rx_post(v, 0, 2, 1536);
	vn_net_send(v, f, len);
	assert_true(vdrv_wait_used(&v->d, &v->q[0], 1, 1000));
	vn_free(v);
}

/* A frame too big for the buffers posted so far holds them (mergeable
 * buffers); a reset drops them, and the device works after it. */
static void test_reset_with_held_buffers(void **state)
{
	(void)state;
	struct vn *v = vn_create(NULL);
	assert_true(vn_start(v, VN_LINUX_FEATURES, 1));
	vn_rx_post(v, 0, 2, 256);
	uint8_t f[2048];
	size_t len = vn_frame(f, vn_mac, vn_peer, 17, 53, 1000, 1000, 1, false);
	vn_net_send(v, f, len);
	harness_run(&v->h, 20);
	assert_int_equal(vdrv_used_idx(&v->d, &v->q[0]), 0);
	/* Reset while the device holds both buffers and the port the frame. */
	assert_true(vn_start(v, VN_LINUX_FEATURES, 1));
	v->rx_slot[0] = 0;
	vn_rx_post(v, 0, 4, 1536);
	size_t small = vn_frame(f, vn_mac, vn_peer, 17, 53, 1000, 10, 2, false);
	vn_net_send(v, f, small);
	assert_true(vdrv_wait_used(&v->d, &v->q[0], 1, 1000));
	uint32_t n;
	uint8_t *b;
	/* The held frame may come first (it waited in the port); then ours. */
	for (;;) {
		b = vn_rx_used(v, 0, &n);
		if (!b) {
			assert_true(vdrv_wait_used(&v->d, &v->q[0], 1, 1000));
			continue;
		}
		if (n == 12 + small)
			break;
		assert_int_equal(n, 12 + len);
	}
	assert_memory_equal(b + 12, f, small);
	vn_free(v);
}

static void test_bad_args(void **state)
{
	(void)state;
	struct harness h;
	struct devargs a;
	harness_init(&h, 16 << 20);
	harness_add(&h, "i440fx", "i440fx", NULL);
	static const char *const bad[] = {
	    "mac=" VN_MAC ",queues=0",	    "mac=" VN_MAC ",queues=17",
	    "mac=" VN_MAC ",queues=two",    "switch=none", /* no MAC */
	    "mac=01:00:5e:00:00:01",			   /* multicast */
	    "mac=" VN_MAC ",color=blue",    "mac=" VN_MAC ",rom=/nonexistent/pxe-virtio.rom",
	    "mac=" VN_MAC ",rom=/dev/null",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&a, 0, sizeof(a));
		assert_int_equal(devargs_parse(&a, bad[i]), 0);
		assert_true(machine_add_device(&h.m, "virtio-net", "n", &a) < 0);
	}
	harness_fini(&h);
}

/* rom=: the option ROM shows in the expansion ROM BAR. */
static void test_rom(void **state)
{
	(void)state;
	char path[] = "/tmp/osio-vnet-rom-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	uint8_t rom[4096] = {0x55, 0xaa, 8};
	assert_int_equal(write(fd, rom, sizeof(rom)), (ssize_t)sizeof(rom));
	close(fd);
	char args[128];
	snprintf(args, sizeof(args), "rom=%s", path);
	struct vn *v = vn_create(args);
	unlink(path);
	vdrv_cfg_write(&v->d, 0x30, 0xfffff800u, 4);
	uint32_t mask = vdrv_cfg_read(&v->d, 0x30, 4);
	assert_int_equal(mask & 0xfffff800u, 0xfffff000u); /* 4 KiB */
	vdrv_cfg_write(&v->d, 0x30, 0xfeb00001u, 4);
	const uint8_t *mapped = gpa_to_hva_ro(&v->h.m.mem, 0xfeb00000ull, 3);
	assert_non_null(mapped);
	assert_memory_equal(mapped, rom, 3);
	vn_free(v);
	/* Without rom= there is none. */
	v = vn_create(NULL);
	vdrv_cfg_write(&v->d, 0x30, 0xfffff800u, 4);
	assert_int_equal(vdrv_cfg_read(&v->d, 0x30, 4), 0);
	vn_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tx_bad_frames), cmocka_unit_test(test_tx_csum_not_negotiated),
	    cmocka_unit_test(test_rx_bad_chains), cmocka_unit_test(test_ctrl_bad_commands),
	    cmocka_unit_test(test_broken_ring),	  cmocka_unit_test(test_reset_with_held_buffers),
	    cmocka_unit_test(test_bad_args),	  cmocka_unit_test(test_rom),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
