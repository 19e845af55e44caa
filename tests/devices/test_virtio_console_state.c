/* virtio-console's pause and saved state: paused, input stays with the backend and output is not
 * taken; a transmit chain the backend took only part of is saved with how far it got, and the
 * new machine writes exactly the rest, once. */
#include "tests/devices/state_move.h"
#include "tests/devices/virtio_driver.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define DEVFN	 PCI_DEVFN(4, 0)
#define RAM	 (32u << 20)
#define QRX	 0x100000ull
#define QTX	 0x110000ull
#define RXBUF	 0x200000ull
#define TXBUF	 0x400000ull
#define TX_BYTES (4u << 20) /* more than the backend and the socket hold */

static char dir[64];

static void machine(struct harness *h, const uint8_t *ram)
{
	char args[256];

	harness_init(h, RAM);
	if (ram)
		st_put_ram(h, ram, RAM);
	harness_add(h, "i440fx", "i440fx", NULL);
	snprintf(args, sizeof(args), "slot=4,chardev=socket,path=%s/con.sock", dir);
	harness_add(h, "virtio-console", "con", args);
}

static int client(struct harness *h)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/con.sock", dir);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	harness_run(h, 5); /* the backend accepts it */
	return fd;
}

static void test_move(void **state)
{
	struct harness *ha = calloc(1, sizeof(*ha)), *hb = calloc(1, sizeof(*hb));
	struct vdrv d;
	struct vdrv_queue rx, tx;
	struct vmstate_out out;
	uint16_t head;
	uint32_t len;

	snprintf(dir, sizeof(dir), "/tmp/vcon-st-XXXXXX");
	assert_non_null(mkdtemp(dir));
	machine(ha, NULL);
	vdrv_init(&d, ha, DEVFN);
	assert_true(vdrv_negotiate(&d, 0));
	vdrv_msix_enable(&d, 3);
	assert_true(vdrv_queue_setup(&d, &rx, 0, 16, QRX, 1));
	assert_true(vdrv_queue_setup(&d, &tx, 1, 16, QTX, 2));
	vdrv_driver_ok(&d);
	int c1 = client(ha);
	/* Output the client does not read: the backend takes part of the chain. */
	uint8_t *data = malloc(TX_BYTES);
	for (size_t i = 0; i < TX_BYTES; i++)
		data[i] = (uint8_t)(i * 7 + (i >> 12));
	memcpy(hram(ha, TXBUF, TX_BYTES), data, TX_BYTES);
	struct vdrv_buf b[4];
	for (unsigned i = 0; i < 4; i++)
		b[i] = (struct vdrv_buf){TXBUF + i * (TX_BYTES / 4), TX_BYTES / 4, false};
	assert_true(vdrv_add(&d, &tx, b, 4, 0) >= 0);
	vdrv_kick(&d, &tx);
	harness_run(ha, 50);
	assert_int_equal(vdrv_used_idx(&d, &tx), 0);
	/* Paused: input waits in the backend. */
	machine_pause_devices(&ha->m, true);
	struct vdrv_buf r = {RXBUF, 16, true};
	assert_true(vdrv_add(&d, &rx, &r, 1, 0) >= 0);
	vdrv_kick(&d, &rx);
	assert_int_equal(write(c1, "abc", 3), 3);
	harness_run(ha, 30);
	assert_int_equal(vdrv_used_idx(&d, &rx), 0);
	vmstate_out_init(&out);
	machine_save_devices(&ha->m, &out);
	assert_int_equal(vmstate_out_error(&out), 0);
	assert_int_equal(st_get(out.buf, out.len, "con", "console.tx"), 1);
	uint64_t off = st_get(out.buf, out.len, "con", "console.tx_off");
	assert_true(off > 0 && off < TX_BYTES);
	uint8_t *ram = st_ram(ha, RAM);
	harness_fini(ha);
	close(c1);

	machine(hb, ram);
	free(ram);
	d.h = hb;
	char err[256] = "";
	if (st_load(hb, out.buf, out.len, err, sizeof(err)) < 0)
		fail_msg("load refused: %s", err);
	msi_set_backend(&hb->m, &vdrv_msi_ops, &d);
	vmstate_out_free(&out);
	int c2 = client(hb);
	machine_pause_devices(&hb->m, false);
	/* Exactly the rest of the chain, once. */
	size_t want = TX_BYTES - off, got = 0;
	uint8_t *buf = malloc(want + 1);
	uint64_t deadline = clock_ns() + 10000000000ull;
	while (clock_ns() < deadline && vdrv_used_idx(&d, &tx) == 0) {
		harness_run(hb, 1);
		ssize_t n;
		while ((n = read(c2, buf + got, want + 1 - got)) > 0)
			got += (size_t)n;
	}
	harness_run(hb, 20);
	ssize_t n;
	while ((n = read(c2, buf + got, want + 1 - got)) > 0)
		got += (size_t)n;
	assert_int_equal(got, want);
	assert_memory_equal(buf, data + off, want);
	assert_true(vdrv_get_used(&d, &tx, &head, &len));
	assert_false(vdrv_get_used(&d, &tx, &head, &len));
	/* Input goes on. */
	assert_int_equal(write(c2, "xyz", 3), 3);
	assert_true(vdrv_wait_used(&d, &rx, 1, 2000));
	assert_true(vdrv_get_used(&d, &rx, &head, &len));
	assert_int_equal(len, 3);
	assert_memory_equal(hram(hb, RXBUF, 3), "xyz", 3);
	close(c2);
	harness_fini(hb);
	char path[96];
	snprintf(path, sizeof(path), "%s/con.sock", dir);
	unlink(path);
	rmdir(dir);
	free(buf);
	free(data);
	free(ha);
	free(hb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_move),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
