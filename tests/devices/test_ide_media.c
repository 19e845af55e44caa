/* Media change on the DVD drive, from the guest (START STOP UNIT, PREVENT
 * ALLOW MEDIUM REMOVAL) and from the host (ide_dvd_insert/ide_dvd_eject):
 * NOT READY without a disc, UNIT ATTENTION once after a change, media
 * events through GET EVENT STATUS NOTIFICATION, the locked tray. */
#include "tests/devices/test_ide_atapi.h"

static void test_event_status(void **state)
{
	struct fx *f = *state;
	uint8_t ms;
	assert_int_equal(media_event(f, 0, &ms), 0);
	assert_int_equal(ms, 0x02); /* disc present, tray closed */
	assert_int_equal(media_event(f, 1, &ms), 0);
	assert_int_equal(ms, 0x00);
	/* Asynchronous operation is not offered. */
	uint8_t async[12] = {0x4a, 0, 0, 0, 0x10, 0, 0, 0, 8};
	check_condition(f, 0, cmd(f, 0, async), 5, 0x24, 0);
	/* A class we do not have: "no event available" and the header. */
	uint8_t other[12] = {0x4a, 1, 0, 0, 0x02, 0, 0, 0, 8};
	struct packet_result r = cmd(f, 0, other);
	expect_ok(r);
	assert_int_equal(r.bytes, 4);
	assert_int_equal(rxbuf[2], 0x80);
	assert_int_equal(rxbuf[1], 2);
}

/* --- media change -------------------------------------------------------------- */

/* The guest's own eject and load, and the lock. */
static void test_tray(void **state)
{
	struct fx *f = *state;
	uint8_t prevent[12] = {0x1e, 0, 0, 0, 1};
	uint8_t eject[12] = {0x1b, 0, 0, 0, 0x02};
	uint8_t load[12] = {0x1b, 0, 0, 0, 0x03};
	uint8_t ms;
	expect_ok(cmd(f, 0, prevent));
	check_condition(f, 0, cmd(f, 0, eject), 5, 0x53, 0x02);
	tur_ok(f, 0);
	prevent[4] = 0;
	expect_ok(cmd(f, 0, prevent));
	expect_ok(cmd(f, 0, eject));
	uint8_t tur[12] = {0};
	check_condition(f, 0, cmd(f, 0, tur), 2, 0x3a, 0);
	assert_int_equal(media_event(f, 0, &ms), 3); /* media removal */
	assert_int_equal(ms, 0x01);		     /* tray open, no disc */
	uint8_t mech[12] = {0xbd, 0, 0, 0, 0, 0, 0, 0, 0, 8};
	cmd(f, 0, mech);
	assert_int_equal(rxbuf[1] & 0x10, 0x10);
	/* Spinning up without loading changes nothing. */
	uint8_t start[12] = {0x1b, 0, 0, 0, 0x01};
	expect_ok(cmd(f, 0, start));
	expect_ok(cmd(f, 0, load));
	assert_int_equal(media_event(f, 0, &ms), 2); /* new media */
	assert_int_equal(ms, 0x02);
	check_condition(f, 0, cmd(f, 0, tur), 6, 0x28, 0);
	tur_ok(f, 0);
	assert_int_equal(media_event(f, 0, &ms), 0);
}

static void test_host_media_change(void **state)
{
	struct fx *f = *state;
	uint8_t tur[12] = {0};
	uint8_t ms;
	assert_int_equal(ide_dvd_eject(f->ide, 0), -ENODEV); /* no drive there */
	assert_int_equal(ide_dvd_eject(f->ide, 7), -ENODEV);
	assert_int_equal(ide_dvd_eject(f->ide, 2), 0);
	assert_int_equal(ide_dvd_eject(f->ide, 2), -ENOMEDIUM);
	check_condition(f, 0, cmd(f, 0, tur), 2, 0x3a, 0);
	assert_int_equal(media_event(f, 0, &ms), 3);
	assert_int_equal(ms, 0x00);
	assert_int_equal(media_event(f, 0, &ms), 0); /* reported once */

	/* A DVD-sized disc goes in: a new-media event; INQUIRY and GESN do
	 * not use up the unit attention; the next command reports it, once. */
	assert_int_equal(ide_dvd_insert(f->ide, 2, f->iso2), 0);
	assert_int_equal(media_event(f, 0, &ms), 2);
	assert_int_equal(ms, 0x02);
	uint8_t inq[12] = {0x12, 0, 0, 0, 36};
	expect_ok(cmd(f, 0, inq));
	/* Once: the next command goes through even without REQUEST SENSE. */
	struct packet_result r = cmd(f, 0, tur);
	assert_int_equal(r.status & S_ERR, S_ERR);
	assert_int_equal(r.error, 0x60);
	tur_ok(f, 0);
	uint8_t cap[12] = {0x25};
	cmd(f, 0, cap);
	assert_int_equal(get_be32_(rxbuf), ISO2_SECTORS - 1);
	uint8_t rd[12] = {0x28};
	put_be32_(rd + 2, ISO2_SECTORS - 1);
	rd[8] = 1;
	expect_ok(cmd(f, 0, rd));
	check_pattern(rxbuf, 2048, (ISO2_SECTORS - 1) * 2048ull, 0x99);
	/* Now the current profile is DVD-ROM. */
	uint8_t gc[12] = {0x46, 0, 0, 0, 0, 0, 0, 0, 8};
	cmd(f, 0, gc);
	assert_int_equal(rxbuf[7], 0x10);

	/* REQUEST SENSE as the first command after a change reports it. */
	assert_int_equal(ide_dvd_insert(f->ide, 2, f->iso), 0);
	struct sense s = request_sense(f, 0);
	assert_int_equal(s.key, 6);
	assert_int_equal(s.asc, 0x28);
	tur_ok(f, 0);

	/* Locked by the guest: the host's eject is refused and the guest
	 * hears an eject request; a disc cannot be swapped either. */
	uint8_t prevent[12] = {0x1e, 0, 0, 0, 1};
	expect_ok(cmd(f, 0, prevent));
	media_event(f, 0, &ms);
	assert_int_equal(ide_dvd_eject(f->ide, 2), -EBUSY);
	assert_int_equal(media_event(f, 0, &ms), 1);
	assert_int_equal(ide_dvd_insert(f->ide, 2, f->iso2), -EBUSY);
	tur_ok(f, 0);
	prevent[4] = 0;
	expect_ok(cmd(f, 0, prevent));
	assert_int_equal(ide_dvd_eject(f->ide, 2), 0);

	/* The empty drive takes a disc; a bad file is refused. */
	assert_int_equal(ide_dvd_insert(f->ide, 3, "/nonexistent/disc.iso"), -ENOENT);
	check_condition(f, 1, cmd(f, 1, tur), 2, 0x3a, 0);
	assert_int_equal(ide_dvd_insert(f->ide, 3, f->iso), 0);
	check_condition(f, 1, cmd(f, 1, tur), 6, 0x28, 0);
	uint8_t rd2[12] = {0x28, 0, 0, 0, 0, 5, 0, 0, 1};
	expect_ok(cmd(f, 1, rd2));
	check_pattern(rxbuf, 2048, 5 * 2048, 0x55);
	/* The disc stays over a machine reset (no unit attention). */
	machine_reset_devices(&f->h->m);
	bios_pci_setup(f->h);
	houtb(f->h, SEC_CTL, CTL_OBS);
	tur_ok(f, 1);
	check_condition(f, 0, cmd(f, 0, tur), 2, 0x3a, 0);
}

/* A disc taken out while the guest is half way through reading it: the
 * command ends with NOT READY, nothing reads a closed image. */
static void test_eject_mid_read(void **state)
{
	struct fx *f = *state;
	struct harness *h = f->h;
	houtb(h, SEC_CTL, CTL_OBS | CTL_NIEN);
	houtb(h, SEC + R_DEV, 0xa0);
	houtb(h, SEC + R_FEAT, 0);
	houtb(h, SEC + R_LBAM, 0x00);
	houtb(h, SEC + R_LBAH, 0x08);
	houtb(h, SEC + R_CMD, 0xa0);
	wait_not_busy(h, SEC_CTL);
	uint8_t cdb[12] = {0x28, 0, 0, 0, 0, 0, 0, 0, 200};
	pio_out(h, SEC, cdb, 12);
	assert_int_equal(wait_not_busy(h, SEC_CTL) & S_DRQ, S_DRQ);
	uint8_t buf[2048];
	pio_in(h, SEC, buf, 2048);
	assert_int_equal(ide_dvd_eject(f->ide, 2), 0);
	uint8_t st = wait_not_busy(h, SEC_CTL);
	assert_int_equal(st & (S_ERR | S_DRQ), S_ERR);
	assert_int_equal(hinb(h, SEC + R_ERROR), 0x20);
	pio_in(h, SEC, buf, 2048); /* nothing more to read */
	houtb(h, SEC_CTL, CTL_OBS);
	uint8_t tur[12] = {0};
	check_condition(f, 0, cmd(f, 0, tur), 2, 0x3a, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_event_status, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tray, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_host_media_change, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_eject_mid_read, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
