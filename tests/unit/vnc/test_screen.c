/* The VNC server's picture, through a raw RFB client: handshake and
 * ServerInit, the first update is the whole current screen, incremental
 * updates carry only what changed (and nothing when nothing did), Hextile,
 * resizes with DesktopSize and ExtendedDesktopSize, a Unix socket, the auto
 * port, WebSocket, and an idle viewer costing no CPU. */
#include "vnc_fixture.h"

#include <netinet/in.h>
#include <sys/resource.h>
#include <time.h>

static const int32_t raw_only[] = {ENC_RAW};

static void open_raw(struct fixture *f, struct rfb *c)
{
	rfb_open(c, f->v, NULL);
	rfb_encodings(c, raw_only, 1);
}

static void test_server_init(void **state)
{
	(void)state;
	struct fixture *f = &fx_global;
	struct rfb c;
	fx_init(f, 640, 480);
	fx_start_default(f);
	rfb_open(&c, f->v, NULL);
	assert_int_equal(c.width, 640);
	assert_int_equal(c.height, 480);
	assert_string_equal(c.name, "test-vm");
	/* 32 bits a pixel, depth 24, little-endian true colour 0x00RRGGBB:
	 * with depth 32 ZRLE viewers misread libvncserver's 3-byte pixels. */
	assert_int_equal(c.format[0], 32);
	assert_int_equal(c.format[1], 24);
	assert_int_equal(c.format[2], 0);
	assert_true(c.format[3] != 0);
	assert_int_equal((c.format[4] << 8 | c.format[4 + 1]), 255);
	assert_int_equal((c.format[6] << 8 | c.format[6 + 1]), 255);
	assert_int_equal((c.format[8] << 8 | c.format[8 + 1]), 255);
	assert_int_equal(c.format[10], 16);
	assert_int_equal(c.format[11], 8);
	assert_int_equal(c.format[12], 0);
	const char *addr = vnc_server_address(f->v);
	char want[32];
	snprintf(want, sizeof(want), "127.0.0.1:%u", vnc_server_port(f->v));
	assert_string_equal(addr, want);
	rfb_close(&c);
	fx_fini(f);
}

/* Whatever changed before the viewer came, and what was never damaged, the
 * first update is the whole current screen, even when asked incrementally. */
static void test_first_update_is_whole_screen(void **state)
{
	(void)state;
	struct fixture *f = &fx_global;
	struct rfb c;
	fx_init(f, 720, 400);
	fx_pattern(f, 0, 0, 720, 400, 1); /* before the server: its first picture */
	fx_start_default(f);
	/* While nobody watches: a small change, then the whole screen again
	 * without damage being reported for most of it... */
	fx_fill(f, 0, 0, 448, 64, 0x00a8a8a8);
	struct display_view v;
	display_lock(f->s, &v);
	for (unsigned y = 64; y < 400; y++)
		for (unsigned x = 0; x < 720; x++)
			v.pixels[(size_t)y * (v.stride / 4) + x] = pattern(x, y, 2);
	display_damage_locked(f->s, 0, 64, 720, 336);
	display_unlock(f->s);
	usleep(50000);

	open_raw(f, &c);
	rfb_request(&c, true, 0, 0, 720, 400);
	assert_true(rfb_update(&c, 3000));
	assert_int_equal(c.ux0, 0);
	assert_int_equal(c.uy0, 0);
	assert_int_equal(c.ux1, 720);
	assert_int_equal(c.uy1, 400);
	rfb_assert_screen(&c, f->s);
	rfb_close(&c);

	/* A second viewer, after the first left: the whole screen again. */
	open_raw(f, &c);
	rfb_request(&c, false, 0, 0, 720, 400);
	assert_true(rfb_update(&c, 3000));
	rfb_assert_screen(&c, f->s);
	rfb_close(&c);
	fx_fini(f);
}

static void test_incremental(void **state)
{
	(void)state;
	struct fixture *f = &fx_global;
	struct rfb c;
	fx_init(f, 640, 480);
	fx_pattern(f, 0, 0, 640, 480, 3);
	fx_start_default(f);
	open_raw(f, &c);
	rfb_request(&c, false, 0, 0, 640, 480);
	assert_true(rfb_update(&c, 3000));
	rfb_assert_screen(&c, f->s);

	/* Nothing changed: an incremental request gets nothing. */
	rfb_request(&c, true, 0, 0, 640, 480);
	assert_false(rfb_update(&c, 500));

	/* A change: only its tiles come (the request still stands). */
	fx_pattern(f, 100, 200, 10, 10, 4);
	assert_true(rfb_update(&c, 3000));
	assert_true(c.ux0 <= 100 && c.uy0 <= 200 && c.ux1 >= 110 && c.uy1 >= 210);
	assert_true(c.ux0 >= 96 && c.uy0 >= 192 && c.ux1 <= 128 && c.uy1 <= 224);
	rfb_assert_screen(&c, f->s);

	/* Two changes far apart: both, and not the screen between them. */
	rfb_request(&c, true, 0, 0, 640, 480);
	fx_fill(f, 0, 0, 5, 5, 0x123456);
	fx_fill(f, 600, 400, 5, 5, 0x654321);
	unsigned pixels = 0;
	while (pixels < 2) {
		assert_true(rfb_update(&c, 3000));
		pixels += c.pixel_rects;
		if (pixels < 2)
			rfb_request(&c, true, 0, 0, 640, 480);
	}
	rfb_assert_screen(&c, f->s);
	rfb_request(&c, true, 0, 0, 640, 480);
	assert_false(rfb_update(&c, 300));

	rfb_close(&c);
	fx_fini(f);
}

static void test_hextile_and_format(void **state)
{
	(void)state;
	struct fixture *f = &fx_global;
	struct rfb c;
	static const int32_t hex[] = {ENC_HEXTILE, ENC_RAW};
	fx_init(f, 320, 200);
	fx_fill(f, 0, 0, 320, 200, 0x102030);
	fx_pattern(f, 40, 40, 50, 30, 5);
	fx_fill(f, 200, 100, 17, 33, 0xabcdef);
	fx_start_default(f);
	rfb_open(&c, f->v, NULL);
	rfb_rgb32(&c);
	rfb_encodings(&c, hex, 2);
	rfb_request(&c, false, 0, 0, 320, 200);
	assert_true(rfb_update(&c, 3000));
	rfb_assert_screen(&c, f->s);
	rfb_close(&c);
	fx_fini(f);
}

static bool same_screen(const struct rfb *c, struct display_surface *s)
{
	struct display_view v;
	bool same = true;
	display_lock(s, &v);
	if (c->width != v.width || c->height != v.height)
		same = false;
	for (unsigned y = 0; same && y < v.height; y++)
		for (unsigned x = 0; same && x < v.width; x++)
			same = (v.pixels[(size_t)y * (v.stride / 4) + x] & 0xffffff) ==
			       c->pixels[(size_t)y * c->width + x];
	display_unlock(s);
	return same;
}

/* Full requests until the viewer's copy is the surface (the test draws
 * after a resize, so the first pictures may be of the black screen). */
static void converge(struct rfb *c, struct display_surface *s)
{
	for (int i = 0; i < 10 && !same_screen(c, s); i++) {
		rfb_request(c, false, 0, 0, c->width, c->height);
		assert_true(rfb_update(c, 3000));
	}
	rfb_assert_screen(c, s);
}

static void test_resize(void **state)
{
	(void)state;
	struct fixture *f = &fx_global;
	struct rfb c, e, old;
	static const int32_t ds[] = {ENC_RAW, ENC_DESKTOP_SIZE};
	static const int32_t eds[] = {ENC_RAW, ENC_EXT_DESKTOP_SIZE};
	fx_init(f, 640, 480);
	fx_start_default(f);
	rfb_open(&c, f->v, NULL);
	rfb_encodings(&c, ds, 2);
	rfb_open(&e, f->v, NULL);
	rfb_encodings(&e, eds, 2);
	rfb_open(&old, f->v, NULL); /* knows neither: keeps its size */
	rfb_encodings(&old, raw_only, 1);
	rfb_request(&c, false, 0, 0, 640, 480);
	assert_true(rfb_update(&c, 3000));
	/* An ExtendedDesktopSize viewer is told the size first (in reply to
	 * every full request), then gets the pixels. */
	rfb_request(&e, false, 0, 0, 640, 480);
	assert_true(rfb_update(&e, 3000));
	assert_true(e.ext_desktop_size);
	assert_int_equal(e.width, 640);
	assert_true(rfb_update(&e, 3000));
	assert_true(e.pixel_rects > 0);
	rfb_request(&old, false, 0, 0, 640, 480);
	assert_true(rfb_update(&old, 3000));

	/* The guest switches mode: the size comes first, alone, then the
	 * pixels. */
	rfb_request(&c, true, 0, 0, 640, 480);
	rfb_request(&e, true, 0, 0, 640, 480);
	fx_resize(f, 1024, 768);
	fx_pattern(f, 0, 0, 1024, 768, 6);

	assert_true(rfb_update(&c, 3000));
	assert_true(c.desktop_size);
	assert_int_equal(c.pixel_rects, 0);
	assert_int_equal(c.width, 1024);
	assert_int_equal(c.height, 768);
	converge(&c, f->s);

	assert_true(rfb_update(&e, 3000));
	assert_true(e.ext_desktop_size);
	assert_int_equal(e.ext_reason, 0); /* the server changed it */
	assert_int_equal(e.width, 1024);
	assert_int_equal(e.height, 768);
	converge(&e, f->s);

	/* Smaller again. */
	while (rfb_update(&c, 200))
		; /* what the requests above still brought */
	rfb_request(&c, true, 0, 0, 1024, 768);
	fx_resize(f, 320, 200);
	fx_pattern(f, 0, 0, 320, 200, 7);
	assert_true(rfb_update(&c, 3000));
	assert_true(c.desktop_size);
	assert_int_equal(c.width, 320);
	assert_int_equal(c.height, 200);
	converge(&c, f->s);

	/* The viewer without DesktopSize is not sent anything it cannot
	 * parse; asking for its old size is harmless. */
	rfb_request(&old, true, 0, 0, 640, 480);
	rfb_update(&old, 500);
	rfb_close(&old);
	rfb_close(&e);
	rfb_close(&c);
	fx_fini(f);
}

static void test_unix_socket(void **state)
{
	(void)state;
	struct fixture *f = &fx_global;
	struct vnc_spec spec;
	struct rfb c;
	char path[128], want[160];
	fx_init(f, 64, 48);
	fx_pattern(f, 0, 0, 64, 48, 8);
	fx_spec(&spec);
	spec.kind = VNC_UNIX;
	snprintf(path, sizeof(path), "%s/vm.vnc", f->dir);
	snprintf(spec.path, sizeof(spec.path), "%s", path);
	fx_start(f, &spec);
	snprintf(want, sizeof(want), "unix:%s", path);
	assert_string_equal(vnc_server_address(f->v), want);
	assert_int_equal(vnc_server_port(f->v), 0);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 077, 0); /* only its owner connects */

	memset(&c, 0, sizeof(c));
	c.fd = rfb_unix(path);
	assert_int_equal(rfb_security(c.fd, NULL), 0);
	rfb_init(&c);
	rfb_encodings(&c, raw_only, 1);
	rfb_request(&c, false, 0, 0, 64, 48);
	assert_true(rfb_update(&c, 3000));
	rfb_assert_screen(&c, f->s);
	rfb_close(&c);
	vnc_server_stop(f->v);
	f->v = NULL;
	assert_int_equal(stat(path, &st), -1); /* removed */
	fx_fini(f);
}

/* VNC_AUTO: loopback, the first free port from 5900. */
static void test_auto_port(void **state)
{
	(void)state;
	struct fixture *f = &fx_global;
	struct vnc_spec spec;
	fx_init(f, 64, 48);
	/* Take the first free port ourselves: the server must pass it by. */
	int taken = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	setsockopt(taken, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	unsigned port;
	for (port = 5900; port < 5990; port++) {
		struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
		in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (bind(taken, (struct sockaddr *)&in, sizeof(in)) == 0 && listen(taken, 1) == 0)
			break;
	}
	assert_true(port < 5990);
	fx_spec(&spec);
	spec.kind = VNC_AUTO;
	spec.host[0] = '\0';
	fx_start(f, &spec);
	if (vnc_server_port(f->v) <= port || vnc_server_port(f->v) > 5999)
		fail_msg("port %u taken here, the server chose %u", port, vnc_server_port(f->v));
	char want[32];
	snprintf(want, sizeof(want), "127.0.0.1:%u", vnc_server_port(f->v));
	assert_string_equal(vnc_server_address(f->v), want);
	struct rfb c;
	rfb_open(&c, f->v, NULL);
	rfb_close(&c);
	close(taken);
	fx_fini(f);
}

/* noVNC connects with WebSocket on the same port. */
static void test_websocket(void **state)
{
	(void)state;
	struct fixture *f = &fx_global;
	fx_init(f, 64, 48);
	fx_start_default(f);
	int fd = rfb_tcp(vnc_server_port(f->v));
	const char *req = "GET /websockify HTTP/1.1\r\n"
			  "Host: 127.0.0.1\r\n"
			  "Origin: http://127.0.0.1\r\n"
			  "Upgrade: websocket\r\n"
			  "Connection: Upgrade\r\n"
			  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
			  "Sec-WebSocket-Protocol: binary\r\n"
			  "Sec-WebSocket-Version: 13\r\n\r\n";
	assert_true(wr(fd, req, strlen(req)));
	char resp[1024];
	size_t n = 0;
	while (n < sizeof(resp) - 1 && !strstr(resp, "\r\n\r\n")) {
		if (!rd(fd, resp + n, 1, 3000))
			break;
		resp[++n] = '\0';
	}
	resp[n] = '\0';
	if (!strstr(resp, " 101 "))
		fail_msg("no WebSocket upgrade: '%s'", resp);
	/* RFC 6455's example key has this accept value. */
	assert_non_null(strstr(resp, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
	/* Then RFB, in a binary frame: "RFB 003.008\n". */
	uint8_t hdr[2];
	assert_true(rd(fd, hdr, 2, 3000));
	assert_int_equal(hdr[0] & 0x0f, 2);
	assert_int_equal(hdr[1] & 0x7f, 12);
	char version[12];
	assert_true(rd(fd, version, 12, 3000));
	assert_memory_equal(version, "RFB 003.008\n", 12);
	close(fd);
	fx_fini(f);
}

static double cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
	       ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}

/* An idle screen with a viewer waiting for updates costs (almost) no CPU. */
static void test_idle_cost(void **state)
{
	(void)state;
	struct fixture *f = &fx_global;
	struct rfb c;
	fx_init(f, 640, 480);
	fx_start_default(f);
	open_raw(f, &c);
	rfb_request(&c, false, 0, 0, 640, 480);
	assert_true(rfb_update(&c, 3000));
	rfb_request(&c, true, 0, 0, 640, 480);
	double before = cpu_seconds();
	assert_false(rfb_update(&c, 1000));
	double used = cpu_seconds() - before;
	/* Measured here: well under 1% of a core over that second, ASan
	 * included. The bound is wider so that a loaded CI machine does not
	 * fail it, while a busy loop (a whole core) still does. */
	if (used > 0.05)
		fail_msg("an idle viewer cost %.1f ms of CPU in a second", used * 1e3);
	rfb_close(&c);
	fx_fini(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_server_init, fx_teardown),
	    cmocka_unit_test_teardown(test_first_update_is_whole_screen, fx_teardown),
	    cmocka_unit_test_teardown(test_incremental, fx_teardown),
	    cmocka_unit_test_teardown(test_hextile_and_format, fx_teardown),
	    cmocka_unit_test_teardown(test_resize, fx_teardown),
	    cmocka_unit_test_teardown(test_unix_socket, fx_teardown),
	    cmocka_unit_test_teardown(test_auto_port, fx_teardown),
	    cmocka_unit_test_teardown(test_websocket, fx_teardown),
	    cmocka_unit_test_teardown(test_idle_cost, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
