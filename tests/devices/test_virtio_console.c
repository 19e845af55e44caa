/* virtio-console (VIRTIO 1.2, 5.3) on a socket backend, driven as Linux's
 * virtio_console drives port 0 without MULTIPORT: receive buffers filled
 * from the host, transmit buffers written out, input held while the guest
 * has no buffers, the emergency write register, the console size. */
#include "tests/devices/virtio_driver.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define DEVFN PCI_DEVFN(4, 0)
#define QRX   0x100000ull
#define QTX   0x110000ull
#define RXBUF 0x200000ull
#define TXBUF 0x300000ull

static char tmpdir[64];

struct con {
	struct harness h;
	struct vdrv d;
	struct vdrv_queue rx, tx;
	char path[96];
	int client;
};

static struct con *new_con(void)
{
	struct con *c = calloc(1, sizeof(*c));
	assert_non_null(c);
	snprintf(c->path, sizeof(c->path), "%s/vcon.sock", tmpdir);
	harness_init(&c->h, 16 << 20);
	harness_add(&c->h, "i440fx", "i440fx", NULL);
	char args[256];
	snprintf(args, sizeof(args), "slot=4,chardev=socket,path=%s,cols=132,rows=50", c->path);
	harness_add(&c->h, "virtio-console", "con", args);
	vdrv_init(&c->d, &c->h, DEVFN);
	assert_true(vdrv_negotiate(&c->d, 1ull << 0 | 1ull << 2));
	assert_int_equal(c->d.accepted, 1ull << 32 | 1ull << 2 | 1ull << 0);
	vdrv_msix_enable(&c->d, 3);
	assert_true(vdrv_queue_setup(&c->d, &c->rx, 0, 16, QRX, 1));
	assert_true(vdrv_queue_setup(&c->d, &c->tx, 1, 16, QTX, 2));
	vdrv_driver_ok(&c->d);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", c->path);
	c->client = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(c->client >= 0);
	assert_int_equal(connect(c->client, (struct sockaddr *)&sa, sizeof(sa)), 0);
	fcntl(c->client, F_SETFL, O_NONBLOCK);
	return c;
}

static void free_con(struct con *c)
{
	close(c->client);
	harness_fini(&c->h);
	free(c);
}

static void post_rx(struct con *c, unsigned i, uint32_t len)
{
	struct vdrv_buf b = {RXBUF + 0x100ull * i, len, true};
	memset(hram(&c->h, b.gpa, len), 0, len);
	assert_true(vdrv_add(&c->d, &c->rx, &b, 1, 0) >= 0);
	vdrv_kick(&c->d, &c->rx);
}

/* Collects what the used receive buffers hold, in order. */
static size_t take_rx(struct con *c, char *out, size_t max)
{
	size_t n = 0;
	uint16_t head;
	uint32_t len;
	while (vdrv_get_used(&c->d, &c->rx, &head, &len)) {
		uint64_t gpa = vdrv_get32(&c->d, c->rx.desc + 16ull * head);
		assert_true(n + len <= max);
		memcpy(out + n, hram(&c->h, gpa, len), len);
		n += len;
	}
	return n;
}

/* Runs the machine until the receive buffers held `want` bytes in all (2 s at
 * most), appending them to out, which holds n already; returns the new n. */
static size_t rx_until(struct con *c, char *out, size_t max, size_t n, size_t want)
{
	uint64_t deadline = clock_ns() + 2000000000ull;
	while (n < want && clock_ns() < deadline) {
		harness_run(&c->h, 1);
		n += take_rx(c, out + n, max - n);
	}
	return n;
}

static void expect_client_reads(struct con *c, const char *s)
{
	size_t want = strlen(s), got = 0;
	char buf[256];
	uint64_t deadline = clock_ns() + 2000000000ull;
	while (got < want && clock_ns() < deadline) {
		harness_run(&c->h, 1);
		ssize_t r = read(c->client, buf + got, sizeof(buf) - got);
		if (r > 0)
			got += (size_t)r;
	}
	assert_int_equal(got, want);
	assert_memory_equal(buf, s, want);
}

static void test_input_output(void **state)
{
	(void)state;
	struct con *c = new_con();
	/* Console size (VIRTIO_CONSOLE_F_SIZE). */
	assert_int_equal(hmmio_read(&c->h, c->d.devcfg, 2), 132);
	assert_int_equal(hmmio_read(&c->h, c->d.devcfg + 2, 2), 50);

	/* Host to guest: split over two 8-byte buffers. */
	post_rx(c, 0, 8);
	post_rx(c, 1, 8);
	assert_int_equal(write(c->client, "hello world!", 12), 12);
	char got[64];
	assert_int_equal(rx_until(c, got, sizeof(got), 0, 12), 12);
	assert_memory_equal(got, "hello world!", 12);
	assert_true(vdrv_msi_count(&c->d, 1) >= 1);

	/* Guest to host: a chain of two readable buffers. */
	memcpy(hram(&c->h, TXBUF, 6), "from ", 5);
	memcpy(hram(&c->h, TXBUF + 0x100, 6), "guest", 5);
	struct vdrv_buf tx[2] = {{TXBUF, 5, false}, {TXBUF + 0x100, 5, false}};
	assert_true(vdrv_add(&c->d, &c->tx, tx, 2, 0) >= 0);
	vdrv_kick(&c->d, &c->tx);
	expect_client_reads(c, "from guest");
	assert_true(vdrv_wait_used(&c->d, &c->tx, 1, 2000));
	uint16_t head;
	uint32_t len;
	assert_true(vdrv_get_used(&c->d, &c->tx, &head, &len));
	assert_int_equal(len, 0);
	assert_true(vdrv_msi_count(&c->d, 2) >= 1);

	/* Emergency write: one byte, no queue. */
	hmmio_write(&c->h, c->d.devcfg + 8, 'Z', 4);
	expect_client_reads(c, "Z");
	free_con(c);
}

static void test_input_waits_for_buffers(void **state)
{
	(void)state;
	struct con *c = new_con();
	post_rx(c, 0, 4);
	assert_int_equal(write(c->client, "abcdefgh", 8), 8);
	char got[16];
	size_t n = rx_until(c, got, sizeof(got), 0, 4);
	assert_int_equal(n, 4);
	/* No buffers: the rest waits in the backend, nothing is lost. */
	harness_run(&c->h, 20);
	assert_int_equal(take_rx(c, got + n, sizeof(got) - n), 0);
	post_rx(c, 1, 16);
	assert_int_equal(rx_until(c, got, sizeof(got), n, 8), 8);
	assert_memory_equal(got, "abcdefgh", 8);

	/* A reset drops what the guest had queued; the device works again
	 * after a new set-up. */
	post_rx(c, 2, 16);
	vdrv_reset(&c->d);
	assert_true(vdrv_negotiate(&c->d, 0));
	assert_true(vdrv_queue_setup(&c->d, &c->rx, 0, 16, QRX + 0x20000, VDRV_NO_VECTOR));
	assert_true(vdrv_queue_setup(&c->d, &c->tx, 1, 16, QTX + 0x20000, VDRV_NO_VECTOR));
	vdrv_driver_ok(&c->d);
	memcpy(hram(&c->h, TXBUF, 3), "ok\n", 3);
	struct vdrv_buf b = {TXBUF, 3, false};
	assert_true(vdrv_add(&c->d, &c->tx, &b, 1, 0) >= 0);
	vdrv_kick(&c->d, &c->tx);
	expect_client_reads(c, "ok\n");
	free_con(c);
}

static void test_bad_args(void **state)
{
	(void)state;
	struct harness h;
	harness_init(&h, 16 << 20);
	harness_add(&h, "i440fx", "i440fx", NULL);
	struct devargs a = {0};
	assert_int_equal(devargs_parse(&a, "chardev=telepathy"), 0);
	assert_true(machine_add_device(&h.m, "virtio-console", "c1", &a) < 0);
	memset(&a, 0, sizeof(a));
	assert_int_equal(devargs_parse(&a, "cols=70000"), 0);
	assert_int_equal(machine_add_device(&h.m, "virtio-console", "c2", &a), -EINVAL);
	harness_fini(&h);
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/osio-vcon-XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_input_output),
	    cmocka_unit_test(test_input_waits_for_buffers),
	    cmocka_unit_test(test_bad_args),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	char p[128];
	snprintf(p, sizeof(p), "%s/vcon.sock", tmpdir);
	unlink(p);
	rmdir(tmpdir);
	return r;
}
