/* Character backends: the byte stream behind a serial port (osio's terminal,
 * a pseudo-terminal, a Unix socket, a file, or nothing), on the machine's
 * event loop, with flow control both ways and no lost bytes. */
#ifndef OSIO_CHARDEV_H
#define OSIO_CHARDEV_H

#include "hypervisor/machine.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes of guest output a backend holds while its sink is slow. */
#define CHARDEV_OUT_BUF (64 * 1024)

struct chardev;

/* What the device behind the backend (the frontend) provides. All three run
 * in the event loop's thread, with no chardev lock held. */
struct chardev_frontend {
	/* Input for the guest: takes what fits and returns how many bytes it
	 * took. Bytes not taken are kept and offered again after the frontend
	 * calls chardev_input_ready(). */
	size_t (*receive)(void *opaque, const uint8_t *buf, size_t len);
	/* A break condition on the line; false if there is no room for it now
	 * (it is offered again after chardev_input_ready()). */
	bool (*receive_break)(void *opaque);
	/* chardev_write() took less than it was given; there is room again. */
	void (*output_ready)(void *opaque);
};

/* Opens a backend: backend is "stdio", "pty", "socket", "file" or "none";
 * path is the socket or file path (NULL or "" for the others). port names
 * the serial port in messages ("COM1"). On failure, one log_error line names
 * the port, the path and the reason, and -errno is returned.
 *
 * stdio: stdin/stdout. On a terminal: raw mode and the Ctrl-A escape key
 *   (x quit, r reset, b break, h help, Ctrl-A a literal Ctrl-A); at most one
 *   port may use it. Otherwise bytes pass unchanged and EOF ends input.
 * pty: a new pseudo-terminal in raw mode; "osio: COM1 is /dev/pts/N" is
 *   logged and the slave side is held open, so output is kept (and flow
 *   controlled) while nobody is attached.
 * socket: a Unix stream socket (mode 0600) at path; a stale socket is
 *   replaced, a live one is an error. The last 64 KiB of output are kept and
 *   sent first to a client that connects (osio serial shows the recent
 *   screen); while a client is connected, a slow one holds the guest back
 *   instead of losing bytes. A new client takes over from the one before
 *   (which is told so). The client sends a break with Ctrl-A b, a
 *   literal Ctrl-A with Ctrl-A Ctrl-A; any other byte after Ctrl-A is passed
 *   on together with the Ctrl-A.
 * file: output appended to path (created 0644); no input.
 * none: output dropped; no input. */
int chardev_open(struct machine *m, const char *port, const char *backend, const char *path,
		 const struct chardev_frontend *fe, void *opaque, struct chardev **out);
/* From the event loop's thread, or while the loop is not running. Pending
 * output that could not be written yet is lost. */
void chardev_close(struct chardev *c);

/* Guest output; safe from any thread and never blocks. Takes as many bytes
 * as fit in the backend's buffer and returns that count; when it is short,
 * output_ready() follows once there is room. Backends without a sink take
 * everything. */
size_t chardev_write(struct chardev *c, const uint8_t *buf, size_t len);

/* The frontend has room for input again (after receive() took less than it
 * was offered, or receive_break() refused). Safe from any thread; cheap when
 * no input is waiting. */
void chardev_input_ready(struct chardev *c);

/* The pseudo-terminal's path ("/dev/pts/N") for pty, the socket's path for
 * socket, the file's path for file, "" otherwise. */
const char *chardev_path(const struct chardev *c);
/* "stdio", "pty", "socket", "file" or "none". */
const char *chardev_backend(const struct chardev *c);

/* Puts osio's terminal back the way it was found (cooked mode). Safe to call
 * more than once, from a signal handler and from any thread; the worker calls
 * it on SIGTERM/SIGINT/SIGHUP and before printing a fatal error. An atexit
 * handler calls it too. */
void chardev_restore_terminal(void);

/* ------------------------------------------------------------------------
 * Between chardev.c and its backend files (chardev_*.c); not for devices.
 */
#ifdef CHARDEV_INTERNAL

#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

/* Input read ahead of the guest: the terminal's is larger, so that Ctrl-A x
 * still gets through behind a large paste the guest does not read. */
#define CHARDEV_IN_BUF	     4096
#define CHARDEV_IN_BUF_STDIO (64 * 1024)
#define CHARDEV_BREAK	     0x100 /* an input item that is a break, not a byte */

enum chardev_kind { CHARDEV_NONE, CHARDEV_STDIO, CHARDEV_PTY, CHARDEV_SOCKET, CHARDEV_FILE };

enum chardev_escape {
	ESCAPE_OFF,
	ESCAPE_LINE, /* Ctrl-A b and Ctrl-A Ctrl-A only (socket clients) */
	ESCAPE_FULL, /* osio's own terminal: quit, reset, break, help */
};

struct chardev {
	struct machine *m;
	enum chardev_kind kind;
	char port[32];
	char path[4096];
	const struct chardev_frontend *fe;
	void *fe_opaque;

	/* vCPU threads wake the loop through kick_fd with these bits. */
	int kick_fd;
	atomic_uint kick;

	/* Output: appended by any thread, written out by the loop thread. */
	pthread_mutex_t out_lock;
	uint8_t *out_buf;
	size_t out_head, out_len;
	bool out_queued; /* a kick or EPOLLOUT will drain the buffer */
	bool out_full;	 /* the frontend was refused: call output_ready */
	bool out_drop;	 /* no sink: output is accepted and discarded */
	/* Loop thread only: */
	int out_fd;
	bool out_sock, out_poll, out_wait, out_reg;
	uint32_t out_mask;

	/* Input: loop thread only, except in_blocked. */
	uint16_t *in_buf;
	size_t in_cap, in_head, in_len;
	int in_fd;
	bool in_sock, in_poll, in_eof, in_reg;
	uint32_t in_mask;
	atomic_bool in_blocked;
	enum chardev_escape escape;
	bool esc_seen;

	/* socket */
	int listen_fd;
	bool listen_reg;
	dev_t sock_dev;
	ino_t sock_ino;
	/* pty */
	int pty_slave;
};

#define CHARDEV_KICK_FLUSH 1u
#define CHARDEV_KICK_INPUT 2u

/* Core services for the backends (chardev.c). */
void chardev_kick(struct chardev *c, unsigned bits);
void chardev_update_events(struct chardev *c);
/* Output sink gone (or never there): drop pending and future output. */
void chardev_set_drop(struct chardev *c, bool drop);
/* Whether fd works with epoll (pipes, terminals, sockets do; regular files
 * and /dev/null do not). */
bool chardev_pollable(int fd);
/* A separate non-blocking descriptor for fd (stdin/stdout), so that
 * O_NONBLOCK does not leak to the processes sharing it. -errno if fd is not
 * open. *sock says to use send/recv. */
int chardev_reopen(int fd, int flags, bool *sock);

/* Backends: each fills in the descriptors above; chardev_close() closes
 * them, after calling the backend's close (if any) for its own clean-up. */
int chardev_stdio_open(struct chardev *c);
void chardev_stdio_close(struct chardev *c);
int chardev_pty_open(struct chardev *c);
int chardev_socket_open(struct chardev *c);
void chardev_socket_close(struct chardev *c);
/* The socket client's input reached EOF or failed: drop the client. */
void chardev_socket_hangup(struct chardev *c);
/* Ctrl-A h. */
void chardev_stdio_help(void);

#endif /* CHARDEV_INTERNAL */

#endif
