/* Viewers' input through the VNC server, with a raw RFB client: keysyms
 * through the keymap with Shift/AltGr synthesis, QEMU's extended key event,
 * pointer events, keys released when a viewer leaves, passwords and
 * view-only viewers, the refusal to listen off loopback without a password,
 * and hostile viewers (garbage, truncated and oversized messages, floods)
 * dropped while another keeps working. */
#include "vnc_fixture.h"

#include <linux/input-event-codes.h>
#include <rfb/keysym.h>

#define K(x) KEY_##x

static void expect_keys(struct fixture *f, const char *want)
{
	char got[512];
	for (int i = 0; i < 300; i++) {
		fx_keys(f, got, sizeof(got));
		if (strcmp(got, want) == 0)
			return;
		usleep(10000);
	}
	fail_msg("keys '%s', want '%s'", got, want);
}

static void start_with_keymap(struct fixture *f, const char *keymap)
{
	struct vnc_spec spec;
	fx_init(f, 640, 480);
	fx_spec(&spec);
	snprintf(spec.keymap, sizeof(spec.keymap), "%s", keymap);
	fx_start(f, &spec);
}

static void tap(int fd, uint32_t keysym)
{
	rfb_key(fd, true, keysym);
	rfb_key(fd, false, keysym);
}

static void test_keysyms_us(void **state)
{
	(void)state;
	struct fixture *f = &fx_global;
	struct rfb c;
	start_with_keymap(f, "en-us");
	rfb_open(&c, f->v, NULL);
	tap(c.fd, 'a');
	expect_keys(f, "+30 -30");
	fx_clear(f);
	/* 'A' without Shift held: Shift is pressed around it. */
	tap(c.fd, 'A');
	expect_keys(f, "+42 +30 -42 -30");
	fx_clear(f);
	/* With the viewer's own Shift: just the key. */
	rfb_key(c.fd, true, XK_Shift_L);
	tap(c.fd, 'A');
	rfb_key(c.fd, false, XK_Shift_L);
	expect_keys(f, "+42 +30 -30 -42");
	fx_clear(f);
	/* Shift held and an unshifted character: Shift is let go around it. */
	rfb_key(c.fd, true, XK_Shift_L);
	tap(c.fd, '1');
	rfb_key(c.fd, false, XK_Shift_L);
	expect_keys(f, "+42 -42 +2 +42 -2 -42");
	fx_clear(f);
	/* Keys that are the same everywhere keep the viewer's modifiers. */
	rfb_key(c.fd, true, XK_Shift_L);
	tap(c.fd, XK_Home);
	rfb_key(c.fd, false, XK_Shift_L);
	expect_keys(f, "+42 +102 -102 -42");
	fx_clear(f);
	/* Ctrl+Alt+Del from the viewer. */
	rfb_key(c.fd, true, XK_Control_L);
	rfb_key(c.fd, true, XK_Alt_L);
	tap(c.fd, XK_Delete);
	rfb_key(c.fd, false, XK_Alt_L);
	rfb_key(c.fd, false, XK_Control_L);
	expect_keys(f, "+29 +56 +111 -111 -56 -29");
	fx_clear(f);
	/* A keysym the layout lacks does nothing; a release of a key never
	 * pressed neither. */
	tap(c.fd, XK_EuroSign);
	rfb_key(c.fd, false, 'q');
	rfb_sync(&c);
	assert_int_equal(fx_count(f), 0);
	rfb_close(&c);
	fx_fini(f);
}

static void test_keysyms_de(void **state)
{
	(void)state;
	struct fixture *f = &fx_global;
	struct rfb c;
	start_with_keymap(f, "de");
	rfb_open(&c, f->v, NULL);
	tap(c.fd, 'z');
	expect_keys(f, "+21 -21"); /* KEY_Y: QWERTZ */
	fx_clear(f);
	/* '@' from a US viewer (Shift held): AltGr+Q, Shift let go. */
	rfb_key(c.fd, true, XK_Shift_L);
	tap(c.fd, '@');
	rfb_key(c.fd, false, XK_Shift_L);
	expect_keys(f, "+42 -42 +100 +16 -100 +42 -16 -42");
	fx_clear(f);
	tap(c.fd, XK_EuroSign);
	expect_keys(f, "+100 +18 -100 -18");
	rfb_close(&c);
	fx_fini(f);
}

static void test_ext_key(void **state)
{
	(void)state;
	struct fixture *f = &fx_global;
	struct rfb c;
	static const int32_t enc[] = {ENC_RAW, ENC_EXT_KEY};
	start_with_keymap(f, "de");
	rfb_open(&c, f->v, NULL);
	rfb_encodings(&c, enc, 2);
	/* The server confirms with the pseudo-rectangle. */
	assert_true(rfb_update(&c, 3000));
	assert_true(c.ext_key_ack);
	assert_int_equal(c.pixel_rects, 0);
	/* Raw codes: the viewer's layout does not matter ('z' on a German
	 * viewer is the key with XT code 0x2c, KEY_Z). */
	rfb_ext_key(c.fd, true, 'y', 0x2c);
	rfb_ext_key(c.fd, false, 'y', 0x2c);
	rfb_ext_key(c.fd, true, XK_Up, 0xc8); /* 0xE0 0x48 folded */
	rfb_ext_key(c.fd, false, XK_Up, 0xc8);
	rfb_ext_key(c.fd, true, XK_Control_R, 0x9d);
	rfb_ext_key(c.fd, false, XK_Control_R, 0x9d);
	expect_keys(f, "+44 -44 +103 -103 +97 -97");
	fx_clear(f);
	/* No XT code: the keysym through the keymap. */
	rfb_ext_key(c.fd, true, 'z', 0);
	rfb_ext_key(c.fd, false, 'z', 0);
	/* An unknown code is ignored. */
	rfb_ext_key(c.fd, true, 0, 0x7f);
	expect_keys(f, "+21 -21");
	/* Plain key events still work alongside. */
	fx_clear(f);
	tap(c.fd, 'a');
	expect_keys(f, "+30 -30");
	rfb_close(&c);

	/* A viewer that never asked for it is not sent the confirmation. */
	rfb_open(&c, f->v, NULL);
	rfb_encodings(&c, enc, 1);
	rfb_request(&c, false, 0, 0, 1, 1);
	assert_true(rfb_update(&c, 3000));
	assert_false(c.ext_key_ack);
	rfb_close(&c);
	fx_fini(f);
}

static bool wait_abs(struct fixture *f, unsigned n, struct rec *out)
{
	if (!fx_wait(f, n))
		return false;
	pthread_mutex_lock(&f->lock);
	*out = f->rec[n - 1];
	pthread_mutex_unlock(&f->lock);
	return out->type == REC_ABS;
}

static void test_pointer(void **state)
{
	(void)state;
	struct fixture *f = &fx_global;
	struct rfb c;
	struct rec r;
	start_with_keymap(f, "en-us");
	rfb_open(&c, f->v, NULL);
	rfb_pointer(c.fd, 0, 0, 0);
	assert_true(wait_abs(f, 1, &r));
	assert_int_equal(r.x, 0);
	assert_int_equal(r.y, 0);
	assert_int_equal(r.buttons, 0);
	rfb_pointer(c.fd, 1, 639, 479); /* left, bottom-right corner */
	assert_true(wait_abs(f, 2, &r));
	assert_int_equal(r.x, 0xffff);
	assert_int_equal(r.y, 0xffff);
	assert_int_equal(r.buttons, INPUT_BUTTON_LEFT);
	rfb_pointer(c.fd, 2, 320, 240);
	assert_true(wait_abs(f, 3, &r));
	assert_int_equal(r.x, 320u * 0xffff / 639);
	assert_int_equal(r.y, 240u * 0xffff / 479);
	assert_int_equal(r.buttons, INPUT_BUTTON_MIDDLE);
	rfb_pointer(c.fd, 4, 320, 240);
	assert_true(wait_abs(f, 4, &r));
	assert_int_equal(r.buttons, INPUT_BUTTON_RIGHT);
	/* Wheel: bit 3 up (dz -1), bit 4 down (dz +1), one step a press. */
	rfb_pointer(c.fd, 8, 320, 240);
	assert_true(wait_abs(f, 5, &r));
	assert_int_equal(r.dz, -1);
	assert_int_equal(r.buttons, 0);
	rfb_pointer(c.fd, 0, 320, 240);
	assert_true(wait_abs(f, 6, &r));
	assert_int_equal(r.dz, 0);
	rfb_pointer(c.fd, 16, 320, 240);
	assert_true(wait_abs(f, 7, &r));
	assert_int_equal(r.dz, 1);
	/* Out of the screen: clamped to it. */
	rfb_pointer(c.fd, 0, 65535, 65535);
	assert_true(wait_abs(f, 8, &r));
	assert_int_equal(r.x, 0xffff);
	assert_int_equal(r.y, 0xffff);
	/* Leaving with a button held releases it. */
	rfb_pointer(c.fd, 1, 10, 10);
	assert_true(wait_abs(f, 9, &r));
	rfb_close(&c);
	assert_true(wait_abs(f, 10, &r));
	assert_int_equal(r.buttons, 0);
	fx_fini(f);
}

static void test_release_on_disconnect(void **state)
{
	(void)state;
	struct fixture *f = &fx_global;
	struct rfb c;
	start_with_keymap(f, "en-us");
	rfb_open(&c, f->v, NULL);
	rfb_key(c.fd, true, XK_Control_L);
	rfb_key(c.fd, true, 'x');
	expect_keys(f, "+29 +45");
	rfb_close(&c);
	char got[128];
	for (int i = 0; i < 300 && fx_count(f) < 4; i++)
		usleep(10000);
	fx_keys(f, got, sizeof(got));
	/* Both released, in whatever order. */
	assert_true(strstr(got, "-29") && strstr(got, "-45"));
	assert_int_equal(fx_count(f), 4);
	fx_fini(f);
}

static void test_passwords(void **state)
{
	(void)state;
	struct fixture *f = &fx_global;
	struct vnc_spec spec;
	struct rfb c;
	fx_init(f, 64, 48);
	fx_spec(&spec);
	fx_file(f, "pw", "sesame12\nwatcher\n", 0600, spec.password_file,
		sizeof(spec.password_file));
	fx_start(f, &spec);

	/* No password offered: None is not among the types. */
	int fd = rfb_tcp(vnc_server_port(f->v));
	assert_int_equal(rfb_security(fd, NULL), -1);
	close(fd);
	/* Wrong password. */
	fd = rfb_tcp(vnc_server_port(f->v));
	assert_int_equal(rfb_security(fd, "sesame13"), 1);
	close(fd);
	/* The full-access one: input goes through. */
	rfb_open(&c, f->v, "sesame12");
	tap(c.fd, 'a');
	expect_keys(f, "+30 -30");
	rfb_close(&c);
	fx_clear(f);
	/* The view-only one: pictures, but no input at all. */
	rfb_open(&c, f->v, "watcher");
	static const int32_t enc[] = {ENC_RAW, ENC_EXT_KEY};
	rfb_encodings(&c, enc, 2);
	tap(c.fd, 'a');
	rfb_ext_key(c.fd, true, 'a', 0x1e);
	rfb_ext_key(c.fd, false, 'a', 0x1e);
	rfb_pointer(c.fd, 1, 5, 5);
	rfb_request(&c, false, 0, 0, 64, 48);
	bool pixels = false;
	for (int i = 0; i < 3 && !pixels; i++) {
		assert_true(rfb_update(&c, 3000));
		pixels = c.pixel_rects > 0;
	}
	assert_true(pixels);
	usleep(100000);
	assert_int_equal(fx_count(f), 0);
	rfb_close(&c);
	fx_fini(f);
}

static void test_password_file_checks(void **state)
{
	(void)state;
	struct fixture *f = &fx_global;
	struct vnc_spec spec;
	fx_init(f, 64, 48);
	fx_spec(&spec);
	/* Readable by others: refused (chmod 600 fixes it). */
	fx_file(f, "open", "sesame\n", 0644, spec.password_file, sizeof(spec.password_file));
	assert_int_equal(vnc_server_start(&f->m, f->s, &spec, "t", &f->v), -EPERM);
	/* Empty password. */
	fx_file(f, "empty", "\nview\n", 0600, spec.password_file, sizeof(spec.password_file));
	assert_int_equal(vnc_server_start(&f->m, f->s, &spec, "t", &f->v), -EINVAL);
	/* Missing file. */
	snprintf(spec.password_file, sizeof(spec.password_file), "%s/none", f->dir);
	assert_int_equal(vnc_server_start(&f->m, f->s, &spec, "t", &f->v), -ENOENT);
	/* Longer than 8 characters: works, with the first 8. */
	fx_file(f, "long", "0123456789\n", 0600, spec.password_file, sizeof(spec.password_file));
	fx_start(f, &spec);
	struct rfb c;
	rfb_open(&c, f->v, "01234567");
	rfb_close(&c);
	fx_fini(f);
}

static void test_off_loopback(void **state)
{
	(void)state;
	struct fixture *f = &fx_global;
	struct vnc_spec spec;
	fx_init(f, 64, 48);
	fx_spec(&spec);
	snprintf(spec.host, sizeof(spec.host), "0.0.0.0");
	assert_int_equal(vnc_server_start(&f->m, f->s, &spec, "t", &f->v), -EACCES);
	spec.host[0] = '\0'; /* every address */
	assert_int_equal(vnc_server_start(&f->m, f->s, &spec, "t", &f->v), -EACCES);
	/* With the explicit opt-in it listens. */
	spec.insecure = true;
	fx_start(f, &spec);
	struct rfb c;
	rfb_open(&c, f->v, NULL);
	rfb_close(&c);
	fx_fini(f);
}

/* One hostile viewer is dropped; a good one connected all along still
 * gets its pictures and its keys through. */
static void check_good(struct fixture *f, struct rfb *good)
{
	fx_clear(f);
	tap(good->fd, 'b');
	expect_keys(f, "+48 -48");
	fx_clear(f);
	rfb_sync(good);
}

static void test_hostile_viewers(void **state)
{
	(void)state;
	struct fixture *f = &fx_global;
	struct rfb good, c;
	start_with_keymap(f, "en-us");
	rfb_open(&good, f->v, NULL);

	/* An unknown message type. */
	rfb_open(&c, f->v, NULL);
	uint8_t junk[64];
	memset(junk, 0x77, sizeof(junk));
	assert_true(wr(c.fd, junk, sizeof(junk)));
	assert_true(rfb_closed(c.fd, 3000));
	rfb_close(&c);
	check_good(f, &good);

	/* Garbage instead of the protocol version. */
	int fd = rfb_tcp(vnc_server_port(f->v));
	assert_true(wr(fd, junk, 12));
	assert_true(rfb_closed(fd, 3000));
	close(fd);
	check_good(f, &good);

	/* A cut text claiming 2 GiB. */
	rfb_open(&c, f->v, NULL);
	uint8_t cut[8] = {rfbClientCutText};
	put_be32(cut + 4, 0x7fffffff);
	wr(c.fd, cut, sizeof(cut));
	wr(c.fd, junk, sizeof(junk));
	assert_true(rfb_closed(c.fd, 3000));
	rfb_close(&c);
	check_good(f, &good);

	/* SetEncodings announcing 65535 entries, then giving up half-way and
	 * never sending the rest: dropped after the wait, meanwhile the good
	 * viewer is served. */
	rfb_open(&c, f->v, NULL);
	uint8_t enc[12] = {rfbSetEncodings, 0, 0xff, 0xff};
	wr(c.fd, enc, sizeof(enc));
	check_good(f, &good);
	assert_true(rfb_closed(c.fd, 8000));
	rfb_close(&c);

	/* A flood of pointer events: dropped. */
	rfb_open(&c, f->v, NULL);
	static uint8_t flood[6 * 40000];
	for (size_t i = 0; i < sizeof(flood); i += 6) {
		flood[i] = rfbPointerEvent;
		flood[i + 1] = 0;
		put_be16(flood + i + 2, (uint16_t)(i % 640));
		put_be16(flood + i + 4, 10);
	}
	size_t sent = 0;
	while (sent < sizeof(flood)) {
		ssize_t n = send(c.fd, flood + sent, sizeof(flood) - sent, MSG_NOSIGNAL);
		if (n <= 0)
			break;
		sent += (size_t)n;
	}
	assert_true(rfb_closed(c.fd, 5000));
	rfb_close(&c);
	check_good(f, &good);

	/* Many connections that say nothing, then go. */
	int fds[12];
	for (int i = 0; i < 12; i++)
		fds[i] = rfb_tcp(vnc_server_port(f->v));
	check_good(f, &good);
	for (int i = 0; i < 12; i++)
		close(fds[i]);
	check_good(f, &good);
	rfb_close(&good);
	fx_fini(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_keysyms_us, fx_teardown),
	    cmocka_unit_test_teardown(test_keysyms_de, fx_teardown),
	    cmocka_unit_test_teardown(test_ext_key, fx_teardown),
	    cmocka_unit_test_teardown(test_pointer, fx_teardown),
	    cmocka_unit_test_teardown(test_release_on_disconnect, fx_teardown),
	    cmocka_unit_test_teardown(test_passwords, fx_teardown),
	    cmocka_unit_test_teardown(test_password_file_checks, fx_teardown),
	    cmocka_unit_test_teardown(test_off_loopback, fx_teardown),
	    cmocka_unit_test_teardown(test_hostile_viewers, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
