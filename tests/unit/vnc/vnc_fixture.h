/* Shared by the VNC server tests: a machine without a vCPU whose keyboard and
 * pointer record what reaches them, a display surface the test draws on, a
 * server on an ephemeral loopback port, and a raw RFB client written here
 * (handshake with VNC authentication, updates in Raw and Hextile, the
 * pseudo-rectangles osio sends). */
#ifndef OSIO_TEST_VNC_FIXTURE_H
#define OSIO_TEST_VNC_FIXTURE_H

#include "devices/display.h"
#include "hypervisor/bytes.h"
#include "hypervisor/evloop.h"
#include "hypervisor/input.h"
#include "hypervisor/machine.h"
#include "vnc/vnc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <rfb/rfbproto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define ENC_RAW		     0
#define ENC_HEXTILE	     5
#define ENC_RICH_CURSOR	     (-239)
#define ENC_X_CURSOR	     (-240)
#define ENC_DESKTOP_SIZE     (-223)
#define ENC_EXT_DESKTOP_SIZE (-308)
#define ENC_EXT_KEY	     (-258)

/* --- what reaches the devices ------------------------------------------ */

enum rec_type { REC_KEY, REC_ABS, REC_REL };

struct rec {
	enum rec_type type;
	unsigned code;
	bool down;
	unsigned x, y;
	int dz;
	unsigned buttons;
};

#define REC_MAX 65536

struct fixture {
	struct machine m;
	struct display_surface *s;
	struct vnc_server *v;
	struct input_keyboard kbd;
	struct input_pointer ptr;
	pthread_mutex_t lock;
	struct rec rec[REC_MAX];
	unsigned nrec;
	char dir[64]; /* a temporary folder for files and sockets */
};

static inline void fx_add(struct fixture *f, const struct rec *r)
{
	pthread_mutex_lock(&f->lock);
	if (f->nrec < REC_MAX)
		f->rec[f->nrec++] = *r;
	pthread_mutex_unlock(&f->lock);
}

static inline void fx_key(void *opaque, unsigned code, bool down)
{
	fx_add(opaque, &(struct rec){.type = REC_KEY, .code = code, .down = down});
}

static inline void fx_abs(void *opaque, unsigned x, unsigned y, int dz, unsigned buttons)
{
	fx_add(opaque,
	       &(struct rec){.type = REC_ABS, .x = x, .y = y, .dz = dz, .buttons = buttons});
}

static inline void fx_rel(void *opaque, int dx, int dy, int dz, unsigned buttons)
{
	fx_add(opaque, &(struct rec){.type = REC_REL, .dz = dz, .buttons = buttons});
}

static inline unsigned fx_count(struct fixture *f)
{
	pthread_mutex_lock(&f->lock);
	unsigned n = f->nrec;
	pthread_mutex_unlock(&f->lock);
	return n;
}

static inline void fx_clear(struct fixture *f)
{
	pthread_mutex_lock(&f->lock);
	f->nrec = 0;
	pthread_mutex_unlock(&f->lock);
}

/* Waits until at least n events were recorded (or 3 s). */
static inline bool fx_wait(struct fixture *f, unsigned n)
{
	for (int i = 0; i < 300; i++) {
		if (fx_count(f) >= n)
			return true;
		usleep(10000);
	}
	return fx_count(f) >= n;
}

/* The keys recorded, as "+30 -30 ..." (press, release). */
static inline void fx_keys(struct fixture *f, char *buf, size_t size)
{
	size_t n = 0;
	buf[0] = '\0';
	pthread_mutex_lock(&f->lock);
	for (unsigned i = 0; i < f->nrec && n + 8 < size; i++)
		if (f->rec[i].type == REC_KEY)
			n += (size_t)snprintf(buf + n, size - n, "%s%c%u", n ? " " : "",
					      f->rec[i].down ? '+' : '-', f->rec[i].code);
	pthread_mutex_unlock(&f->lock);
}

/* share/keymaps of the source tree: this file is tests/unit/vnc/vnc_fixture.h. */
static inline const char *keymap_dir(void)
{
	static char dir[4096];
	const char *self = __FILE__, *tail = strstr(self, "tests/unit/vnc/");
	snprintf(dir, sizeof(dir), "%.*sshare/keymaps", tail ? (int)(tail - self) : 0, self);
	return dir;
}

/* The one fixture (a server per process); fx_teardown finishes it after a
 * test that failed half-way. */
static struct fixture fx_global;
static bool fx_active;

/* A machine with recording devices and a width x height surface (black). */
static inline void fx_init(struct fixture *f, unsigned width, unsigned height)
{
	memset(f, 0, sizeof(*f));
	fx_active = true;
	setenv("OSIO_KEYMAP_PATH", keymap_dir(), 1);
	pthread_mutex_init(&f->lock, NULL);
	assert_int_equal(machine_init(&f->m), 0);
	f->kbd = (struct input_keyboard){.key = fx_key, .opaque = f};
	f->ptr = (struct input_pointer){.rel = fx_rel, .abs = fx_abs, .opaque = f};
	assert_int_equal(input_add_keyboard(&f->m, &f->kbd), 0);
	assert_int_equal(input_add_pointer(&f->m, &f->ptr), 0);
	f->s = display_new(width, height);
	assert_non_null(f->s);
	snprintf(f->dir, sizeof(f->dir), "/tmp/osio-vnc-test-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
}

static inline void fx_spec(struct vnc_spec *spec)
{
	memset(spec, 0, sizeof(*spec));
	spec->kind = VNC_TCP;
	snprintf(spec->host, sizeof(spec->host), "127.0.0.1");
	spec->port = 0; /* the kernel chooses: tests may run side by side */
	snprintf(spec->keymap, sizeof(spec->keymap), "en-us");
}

static inline void fx_start(struct fixture *f, const struct vnc_spec *spec)
{
	assert_int_equal(vnc_server_start(&f->m, f->s, spec, "test-vm", &f->v), 0);
}

static inline void fx_start_default(struct fixture *f)
{
	struct vnc_spec spec;
	fx_spec(&spec);
	fx_start(f, &spec);
}

static inline void fx_fini(struct fixture *f)
{
	fx_active = false;
	char cmd[128];
	vnc_server_stop(f->v);
	f->v = NULL;
	input_remove_pointer(&f->m, &f->ptr);
	input_remove_keyboard(&f->m, &f->kbd);
	display_put(f->s);
	machine_destroy(&f->m);
	pthread_mutex_destroy(&f->lock);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
}

static inline int fx_teardown(void **state)
{
	(void)state;
	if (fx_active)
		fx_fini(&fx_global);
	return 0;
}

/* A file in the fixture's folder with the given mode. */
static inline void fx_file(struct fixture *f, const char *name, const char *text, mode_t mode,
			   char *path, size_t size)
{
	snprintf(path, size, "%s/%s", f->dir, name);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	assert_int_equal(chmod(path, mode), 0);
}

/* --- drawing ------------------------------------------------------------- */

static inline uint32_t pattern(unsigned x, unsigned y, unsigned salt)
{
	uint32_t v = (x * 2654435761u) ^ (y * 40503u) ^ (salt * 97u);
	return (v ^ (v >> 13)) & 0xffffff;
}

static inline void fx_fill(struct fixture *f, unsigned x, unsigned y, unsigned w, unsigned h,
			   uint32_t color)
{
	struct display_view v;
	display_lock(f->s, &v);
	for (unsigned j = y; j < y + h && j < v.height; j++)
		for (unsigned i = x; i < x + w && i < v.width; i++)
			v.pixels[(size_t)j * (v.stride / 4) + i] = color;
	display_damage_locked(f->s, x, y, w, h);
	display_unlock(f->s);
}

static inline void fx_pattern(struct fixture *f, unsigned x, unsigned y, unsigned w, unsigned h,
			      unsigned salt)
{
	struct display_view v;
	display_lock(f->s, &v);
	for (unsigned j = y; j < y + h && j < v.height; j++)
		for (unsigned i = x; i < x + w && i < v.width; i++)
			v.pixels[(size_t)j * (v.stride / 4) + i] = pattern(i, j, salt);
	display_damage_locked(f->s, x, y, w, h);
	display_unlock(f->s);
}

static inline void fx_resize(struct fixture *f, unsigned w, unsigned h)
{
	struct display_view v;
	display_lock(f->s, &v);
	assert_int_equal(display_resize_locked(f->s, w, h, &v), 0);
	display_unlock(f->s);
}

/* --- a raw RFB client --------------------------------------------------- */

struct rfb {
	int fd;
	unsigned width, height;
	uint8_t format[16];
	char name[256];
	bool big_rgb;	  /* pixels as 0x00RRGGBB (SetPixelFormat sent); else as the server's */
	uint32_t *pixels; /* width x height */
	/* What the last update held. */
	unsigned rects, pixel_rects;
	unsigned ux0, uy0, ux1, uy1; /* bounding box of its pixel rectangles */
	bool desktop_size, ext_desktop_size, cursor, ext_key_ack;
	unsigned ext_reason, ext_status;
};

static inline int rfb_tcp(unsigned port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&in, sizeof(in)), 0);
	return fd;
}

static inline int rfb_unix(const char *path)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	assert_true(strlen(path) < sizeof(un.sun_path));
	memcpy(un.sun_path, path, strlen(path) + 1);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&un, sizeof(un)), 0);
	return fd;
}

/* n bytes within timeout_ms; false on timeout, EOF or error. */
static inline bool rd(int fd, void *buf, size_t n, int timeout_ms)
{
	uint8_t *p = buf;
	while (n > 0) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (poll(&pfd, 1, timeout_ms) <= 0)
			return false;
		ssize_t got = recv(fd, p, n, 0);
		if (got <= 0)
			return false;
		p += got;
		n -= (size_t)got;
	}
	return true;
}

static inline bool wr(int fd, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	while (n > 0) {
		ssize_t put = send(fd, p, n, MSG_NOSIGNAL);
		if (put <= 0)
			return false;
		p += put;
		n -= (size_t)put;
	}
	return true;
}

/* Whether the server closed the connection within timeout_ms (anything it
 * still sends is read and dropped). */
static inline bool rfb_closed(int fd, int timeout_ms)
{
	uint8_t buf[4096];
	for (int waited = 0; waited < timeout_ms; waited += 50) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (poll(&pfd, 1, 50) > 0) {
			ssize_t got = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (got == 0 || (got < 0 && errno != EAGAIN))
				return true;
			waited -= 50; /* data: keep draining */
			if (waited < -100000)
				return false;
		}
	}
	return false;
}

/* Version and security (None, or VNC authentication with password). The
 * security result: 0 OK, 1 failed, -1 nothing sensible came. */
static inline int rfb_security(int fd, const char *password)
{
	char version[13];
	uint8_t n, types[256];
	if (!rd(fd, version, 12, 3000))
		return -1;
	version[12] = '\0';
	assert_memory_equal(version, "RFB 003.", 8);
	assert_true(wr(fd, "RFB 003.008\n", 12));
	if (!rd(fd, &n, 1, 3000) || n == 0 || !rd(fd, types, n, 3000))
		return -1;
	uint8_t want = password ? rfbVncAuth : rfbNoAuth;
	bool offered = false;
	for (unsigned i = 0; i < n; i++)
		offered |= types[i] == want;
	if (!offered)
		return -1;
	assert_true(wr(fd, &want, 1));
	if (password) {
		uint8_t challenge[CHALLENGESIZE];
		char pw[9] = {0};
		if (!rd(fd, challenge, sizeof(challenge), 3000))
			return -1;
		strncpy(pw, password, 8);
		rfbEncryptBytes(challenge, pw);
		assert_true(wr(fd, challenge, sizeof(challenge)));
	}
	uint8_t result[4];
	if (!rd(fd, result, 4, 3000))
		return -1;
	return get_be32(result) == 0 ? 0 : 1;
}

/* ClientInit (shared) and ServerInit. */
static inline void rfb_init(struct rfb *c)
{
	uint8_t si[24], shared = 1;
	assert_true(wr(c->fd, &shared, 1));
	assert_true(rd(c->fd, si, sizeof(si), 3000));
	c->width = (unsigned)(si[0] << 8 | si[1]);
	c->height = (unsigned)(si[2] << 8 | si[3]);
	memcpy(c->format, si + 4, 16);
	uint32_t len = get_be32(si + 20);
	assert_true(len < sizeof(c->name));
	assert_true(rd(c->fd, c->name, len, 3000));
	c->name[len] = '\0';
	c->pixels = calloc((size_t)c->width * c->height, 4);
	assert_non_null(c->pixels);
}

/* A connected, initialised client (no password). */
static inline void rfb_open(struct rfb *c, struct vnc_server *v, const char *password)
{
	memset(c, 0, sizeof(*c));
	c->fd = rfb_tcp(vnc_server_port(v));
	assert_int_equal(rfb_security(c->fd, password), 0);
	rfb_init(c);
}

static inline void rfb_close(struct rfb *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->pixels);
	c->pixels = NULL;
}

/* 32 bits a pixel, 0x00RRGGBB little-endian: the surface's own values. */
static inline void rfb_rgb32(struct rfb *c)
{
	uint8_t m[20] = {
	    rfbSetPixelFormat, 0, 0, 0, 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0};
	assert_true(wr(c->fd, m, sizeof(m)));
	c->big_rgb = true;
}

static inline void rfb_encodings(struct rfb *c, const int32_t *enc, unsigned n)
{
	uint8_t m[4 + 4 * 32] = {rfbSetEncodings, 0, 0, (uint8_t)n};
	assert_true(n <= 32);
	for (unsigned i = 0; i < n; i++)
		put_be32(m + 4 + 4 * i, (uint32_t)enc[i]);
	assert_true(wr(c->fd, m, 4 + 4 * n));
}

static inline void rfb_request(struct rfb *c, bool incremental, unsigned x, unsigned y, unsigned w,
			       unsigned h)
{
	uint8_t m[10] = {rfbFramebufferUpdateRequest, incremental};
	put_be16(m + 2, (uint16_t)x);
	put_be16(m + 4, (uint16_t)y);
	put_be16(m + 6, (uint16_t)w);
	put_be16(m + 8, (uint16_t)h);
	assert_true(wr(c->fd, m, sizeof(m)));
}

static inline void rfb_key(int fd, bool down, uint32_t keysym)
{
	uint8_t m[8] = {rfbKeyEvent, down};
	put_be32(m + 4, keysym);
	assert_true(wr(fd, m, sizeof(m)));
}

static inline void rfb_ext_key(int fd, bool down, uint32_t keysym, uint32_t xt)
{
	uint8_t m[12] = {255, 0, 0, down};
	put_be32(m + 4, keysym);
	put_be32(m + 8, xt);
	assert_true(wr(fd, m, sizeof(m)));
}

static inline void rfb_pointer(int fd, unsigned mask, unsigned x, unsigned y)
{
	uint8_t m[6] = {rfbPointerEvent, (uint8_t)mask};
	put_be16(m + 2, (uint16_t)x);
	put_be16(m + 4, (uint16_t)y);
	assert_true(wr(fd, m, sizeof(m)));
}

/* A received pixel as 0x00RRGGBB, whichever format was asked for. */
static inline uint32_t rfb_to_rgb(const struct rfb *c, uint32_t p)
{
	/* The server's own format is the surface's: 0x00RRGGBB, depth 24. */
	(void)c;
	return p & 0xffffff;
}

static inline void put_pixel(struct rfb *c, unsigned x, unsigned y, uint32_t p)
{
	assert_true(x < c->width && y < c->height);
	c->pixels[(size_t)y * c->width + x] = rfb_to_rgb(c, p);
}

static inline void hextile(struct rfb *c, unsigned x0, unsigned y0, unsigned w, unsigned h)
{
	uint32_t bg = 0, fg = 0;
	for (unsigned ty = y0; ty < y0 + h; ty += 16) {
		for (unsigned tx = x0; tx < x0 + w; tx += 16) {
			unsigned tw = x0 + w - tx < 16 ? x0 + w - tx : 16;
			unsigned th = y0 + h - ty < 16 ? y0 + h - ty : 16;
			uint8_t sub;
			assert_true(rd(c->fd, &sub, 1, 3000));
			if (sub & 1) { /* Raw */
				for (unsigned j = 0; j < th; j++)
					for (unsigned i = 0; i < tw; i++) {
						uint8_t p[4];
						assert_true(rd(c->fd, p, 4, 3000));
						put_pixel(c, tx + i, ty + j, get_le32(p));
					}
				continue;
			}
			uint8_t p[4];
			if (sub & 2) {
				assert_true(rd(c->fd, p, 4, 3000));
				bg = get_le32(p);
			}
			for (unsigned j = 0; j < th; j++)
				for (unsigned i = 0; i < tw; i++)
					put_pixel(c, tx + i, ty + j, bg);
			if (sub & 4) {
				assert_true(rd(c->fd, p, 4, 3000));
				fg = get_le32(p);
			}
			uint8_t nsub = 0;
			if (sub & 8)
				assert_true(rd(c->fd, &nsub, 1, 3000));
			for (unsigned s = 0; s < nsub; s++) {
				uint32_t color = fg;
				if (sub & 16) {
					assert_true(rd(c->fd, p, 4, 3000));
					color = get_le32(p);
				}
				uint8_t xy[2];
				assert_true(rd(c->fd, xy, 2, 3000));
				unsigned sx = xy[0] >> 4, sy = xy[0] & 15;
				unsigned sw = (xy[1] >> 4) + 1u, sh = (xy[1] & 15) + 1u;
				for (unsigned j = 0; j < sh; j++)
					for (unsigned i = 0; i < sw; i++)
						put_pixel(c, tx + sx + i, ty + sy + j, color);
			}
		}
	}
}

/* Reads server messages until a FramebufferUpdate has been read whole.
 * false if none came within timeout_ms. */
static inline bool rfb_update(struct rfb *c, int timeout_ms)
{
	uint8_t type;
	for (;;) {
		if (!rd(c->fd, &type, 1, timeout_ms))
			return false;
		if (type == rfbFramebufferUpdate)
			break;
		if (type == rfbBell)
			continue;
		if (type == rfbServerCutText) {
			uint8_t h[7];
			assert_true(rd(c->fd, h, 7, 3000));
			uint32_t len = get_be32(h + 3);
			assert_true(len < 65536);
			char *t = malloc(len + 1);
			assert_true(rd(c->fd, t, len, 3000));
			free(t);
			continue;
		}
		fail_msg("unexpected server message %u", type);
	}
	uint8_t h[3];
	assert_true(rd(c->fd, h, 3, 3000));
	unsigned n = (unsigned)(h[1] << 8 | h[2]);
	c->rects = n;
	c->pixel_rects = 0;
	c->ux0 = c->uy0 = ~0u;
	c->ux1 = c->uy1 = 0;
	c->desktop_size = c->ext_desktop_size = c->cursor = c->ext_key_ack = false;
	for (unsigned r = 0; r < n; r++) {
		uint8_t rh[12];
		assert_true(rd(c->fd, rh, 12, 3000));
		unsigned x = get_be32(rh) >> 16, y = get_be32(rh) & 0xffff;
		unsigned w = get_be32(rh + 4) >> 16, hgt = get_be32(rh + 4) & 0xffff;
		int32_t enc = (int32_t)get_be32(rh + 8);
		if (enc == ENC_RAW || enc == ENC_HEXTILE) {
			assert_true(x + w <= c->width && y + hgt <= c->height);
			c->pixel_rects++;
			c->ux0 = x < c->ux0 ? x : c->ux0;
			c->uy0 = y < c->uy0 ? y : c->uy0;
			c->ux1 = x + w > c->ux1 ? x + w : c->ux1;
			c->uy1 = y + hgt > c->uy1 ? y + hgt : c->uy1;
		}
		if (enc == ENC_RAW) {
			for (unsigned j = 0; j < hgt; j++)
				for (unsigned i = 0; i < w; i++) {
					uint8_t p[4];
					assert_true(rd(c->fd, p, 4, 3000));
					put_pixel(c, x + i, y + j, get_le32(p));
				}
		} else if (enc == ENC_HEXTILE) {
			hextile(c, x, y, w, hgt);
		} else if (enc == ENC_DESKTOP_SIZE || enc == ENC_EXT_DESKTOP_SIZE) {
			if (enc == ENC_EXT_DESKTOP_SIZE) {
				uint8_t sh[4], screen[16];
				assert_true(rd(c->fd, sh, 4, 3000));
				for (unsigned s = 0; s < sh[0]; s++)
					assert_true(rd(c->fd, screen, 16, 3000));
				c->ext_desktop_size = true;
				c->ext_reason = x;
				c->ext_status = y;
			} else {
				c->desktop_size = true;
			}
			c->width = w;
			c->height = hgt;
			free(c->pixels);
			c->pixels = calloc((size_t)w * hgt, 4);
			assert_non_null(c->pixels);
		} else if (enc == ENC_RICH_CURSOR || enc == ENC_X_CURSOR) {
			size_t mask = (size_t)(w + 7) / 8 * hgt;
			size_t data = enc == ENC_RICH_CURSOR ? (size_t)w * hgt * 4
							     : (w && hgt ? 6 + mask : 0);
			uint8_t *buf = malloc(data + mask + 1);
			assert_true(rd(c->fd, buf, data + mask, 3000));
			free(buf);
			c->cursor = true;
		} else if (enc == ENC_EXT_KEY) {
			c->ext_key_ack = true;
		} else {
			fail_msg("unexpected encoding %d", enc);
		}
	}
	return true;
}

/* The client's copy equals the surface. */
static inline void rfb_assert_screen(struct rfb *c, struct display_surface *s)
{
	struct display_view v;
	display_lock(s, &v);
	assert_int_equal(c->width, v.width);
	assert_int_equal(c->height, v.height);
	for (unsigned y = 0; y < v.height; y++)
		for (unsigned x = 0; x < v.width; x++) {
			uint32_t want = v.pixels[(size_t)y * (v.stride / 4) + x] & 0xffffff;
			uint32_t got = c->pixels[(size_t)y * c->width + x];
			if (want != got) {
				display_unlock(s);
				fail_msg("pixel (%u,%u): got %06x, the surface has %06x", x, y, got,
					 want);
			}
		}
	display_unlock(s);
}

/* Everything before this point was handled: a 1x1 non-incremental request
 * is answered after the messages sent before it. */
static inline void rfb_sync(struct rfb *c)
{
	rfb_request(c, false, 0, 0, 1, 1);
	assert_true(rfb_update(c, 3000));
}

#endif
