/* Inside the VNC server: what its parts (the listening sockets, the password
 * file, the keyboard, the server and viewer threads) share. */
#ifndef OSIO_VNC_INT_H
#define OSIO_VNC_INT_H

#include "hypervisor/vmspec.h"
#include "devices/display.h"
#include "vnc/keymap.h"

#include <limits.h>
#include <linux/input-event-codes.h>
#include <pthread.h>
#include <rfb/rfb.h>
#include <rfb/rfbregion.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define VNC_MAX_CLIENTS	 16
#define VNC_MAX_LISTEN	 4
#define VNC_HELD_KEYSYMS 32
#define VNC_ADDRESS_MAX	 (PATH_MAX + 16)

/* --- listen.c ----------------------------------------------------------- */

struct vnc_listen {
	int fds[VNC_MAX_LISTEN];
	unsigned n;
	unsigned port; /* TCP; 0 for a Unix socket */
	char address[VNC_ADDRESS_MAX];
	char unix_path[PATH_MAX]; /* "" unless a Unix socket was created */
	dev_t unix_dev;
	ino_t unix_ino;
};

/* Opens the listening sockets spec asks for (non-blocking, close-on-exec).
 * Refuses an address off loopback unless have_password or spec->insecure.
 * Logs one line and returns -errno on failure. */
int vnc_listen_open(const struct vnc_spec *spec, bool have_password, struct vnc_listen *l);
/* Closes the sockets and removes the Unix socket if it is still ours. */
void vnc_listen_close(struct vnc_listen *l);

/* --- auth.c ------------------------------------------------------------- */

/* VNC authentication keys only the first 8 characters of a password. */
#define VNC_PASSWORD_LEN 8

struct vnc_passwords {
	char full[VNC_PASSWORD_LEN + 1];
	char view[VNC_PASSWORD_LEN + 1]; /* "" for none */
	char *list[3];			 /* for rfbCheckPasswordByList: full, view, NULL */
};

/* Reads the password file: line 1 the full-access password, an optional
 * line 2 a view-only one. Refuses a file others may read or write, an empty
 * password, and a view-only password that equals the full one. Logs one line
 * and returns -errno on failure. */
int vnc_passwords_load(const char *path, struct vnc_passwords *pw);
void vnc_passwords_clear(struct vnc_passwords *pw);

/* --- keys.c ------------------------------------------------------------- */

struct vnc_server;

/* One viewer's keyboard. */
struct vnc_keys {
	uint8_t down[(KEY_MAX + 8) / 8]; /* keys this viewer holds (as the guest sees them) */
	struct {
		uint32_t keysym;
		uint16_t keycode;
	} held[VNC_HELD_KEYSYMS]; /* which key each held keysym pressed */
	unsigned nheld;
	bool ext; /* the viewer enabled QEMU's extended key events */
};

/* Key events (from the viewer's thread). */
void vnc_keysym_event(struct vnc_server *v, struct vnc_keys *k, bool down, uint32_t keysym);
void vnc_keycode_event(struct vnc_server *v, struct vnc_keys *k, bool down, uint32_t keysym,
		       uint32_t xt);
/* Releases what the viewer holds (it went away). */
void vnc_keys_release(struct vnc_server *v, struct vnc_keys *k);
/* An XT (set 1) scan code as QEMU's extended key event carries it (0xE0
 * prefixed keys as 0x80 | code) to a Linux key code; 0 if unknown. */
unsigned vnc_xt_to_evdev(uint32_t xt);
/* Registers the extended key event with libvncserver (once per process). */
void vnc_ext_key_register(void);
/* Frees what enabling it for a viewer took (libvncserver 0.9.14 keeps it). */
void vnc_ext_key_forget(rfbClientPtr cl);

/* --- server.c ----------------------------------------------------------- */

struct vnc_client {
	struct vnc_server *v;
	rfbClientPtr cl; /* once libvncserver accepted it; NULL after it is gone */
	int sock;	 /* handed to libvncserver, which closes it */
	int shut_fd;	 /* a dup of sock: shutdown() from any thread */
	int wake_fd;	 /* eventfd: an update may be due, or stop */
	pthread_t thread;
	atomic_bool done; /* the thread has finished: join it */
	char host[64];
	unsigned buttons; /* pointer buttons held, RFB mask */
	unsigned last_x, last_y;
	double tokens; /* flood guard: messages the viewer may still send */
	uint64_t tokens_at;
	struct vnc_keys keys;
};

struct vnc_server {
	struct machine *m;
	struct display_surface *surface;
	struct display_consumer *consumer;
	rfbScreenInfoPtr screen;
	uint32_t *fb; /* the server's own pixels, at the largest size (see server.c) */
	size_t fb_bytes;
	unsigned width, height;
	char name[128];
	struct vnc_listen listen;
	struct vnc_passwords pw;
	bool have_password;
	struct keymap *keymap;
	bool keymap_altgr;     /* the layout has AltGr levels: Right Alt is AltGr */
	atomic_bool caps_lock; /* the guest's Caps Lock as VNC viewers toggled it */

	int wake_fd; /* eventfd: stop, a viewer finished */
	pthread_t thread;
	bool thread_started;
	atomic_bool stopping;
	uint64_t last_refresh_ns;

	pthread_mutex_t lock; /* clients[] and their cl */
	struct vnc_client *clients[VNC_MAX_CLIENTS];
	unsigned nclients;
	/* libvncserver's client list: rfbNewClient, rfbClientConnectionGone and
	 * rfbNewFramebuffer hold it. */
	pthread_mutex_t list_lock;
	/* Viewers hold it for reading while libvncserver handles one of their
	 * messages; a new framebuffer size takes it for writing. */
	pthread_rwlock_t msg_lock;
};

/* The framebuffer is mapped once at the largest size a surface can have,
 * so its address never changes: whatever libvncserver reads while a size
 * change goes on stays inside it (pages of a smaller mode are given back). */
#define VNC_FB_BYTES ((size_t)DISPLAY_MAX_WIDTH * DISPLAY_MAX_HEIGHT * 4)
/* Refreshes from the surface at most this often (60 a second). */
#define VNC_REFRESH_NS (1000000000ull / 60)

/* Signals an eventfd. */
void vnc_wake(int fd);

/* --- frame.c ------------------------------------------------------------ */

/* The cursor shape (built once) libvncserver sends viewers that draw it. */
void vnc_cursor_init(void);
rfbCursorPtr vnc_get_cursor(rfbClientPtr cl);
/* The server's pixel format: the surface's own, depth 24. */
void vnc_set_format(rfbScreenInfoPtr s);
/* The whole surface into the framebuffer (at start). */
void vnc_first_picture(struct vnc_server *v);
/* What changed on the surface into the framebuffer and the viewers' dirty
 * regions, or a new size. Server thread. */
void vnc_refresh(struct vnc_server *v);

#endif
