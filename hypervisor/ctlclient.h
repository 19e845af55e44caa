/* The client side of a VM's control socket (share/doc/control-api.md): the
 * greeting, requests with ids, replies and events, descriptors passed with
 * SCM_RIGHTS, and one-shot queries. osio's commands, osio connect, the VM
 * store (osio list) and the tests use it. */
#ifndef OSIO_CTLCLIENT_H
#define OSIO_CTLCLIENT_H

#include <jansson.h>
#include <stdbool.h>

#define CTL_PROTOCOL   2	 /* the protocol this client speaks */
#define CTL_LINE_MAX   (1 << 20) /* the longest line taken from a worker */
#define CTL_FDS_MAX    16	 /* descriptors received and not yet claimed (FDQUEUE_MAX) */
#define CTL_TIMEOUT_MS 10000	 /* for the greeting and ctl_call's reply */

struct ctl_client;

/* Called from whichever thread runs ctl_read/ctl_call. */
struct ctl_handlers {
	/* An event. data is borrowed (never NULL); fd is the descriptor that
	 * came with it ("fd": true), -1 if none, and the callee's to close. */
	void (*event)(void *opaque, const char *name, json_t *data, int fd);
	/* The reply to a request sent with ctl_send: ret (borrowed) on
	 * success, else ret is NULL and cls/desc say why. */
	void (*reply)(void *opaque, long long id, json_t *ret, const char *cls, const char *desc);
	void *opaque;
};

/* Connects to the VM named name_or_path (a name, or a socket path with a
 * '/'; see control_socket_resolve) and reads its greeting. handlers may be
 * NULL (events are dropped). On failure, returns -errno and puts one line
 * saying what is wrong and what to do in err (of size errlen):
 * -ENOENT no such VM, -ECONNREFUSED a stale socket, -EACCES another user's
 * VM, -EPROTO not an osio control socket or an older protocol. */
int ctl_open(const char *name_or_path, const struct ctl_handlers *handlers, struct ctl_client **out,
	     char *err, size_t errlen);
/* The same with timeout_ms (instead of CTL_TIMEOUT_MS) for connecting and
 * the greeting: a hung worker gives -ETIMEDOUT. */
int ctl_open_timeout(const char *name_or_path, const struct ctl_handlers *handlers,
		     struct ctl_client **out, char *err, size_t errlen, int timeout_ms);
/* The same over a connected stream socket (taken over, closed on failure);
 * label names the peer in messages. */
int ctl_open_fd(int fd, const char *label, const struct ctl_handlers *handlers,
		struct ctl_client **out, char *err, size_t errlen);
/* Closes the socket and every descriptor not handed out. NULL is fine. */
void ctl_close(struct ctl_client *c);

/* The VM's name and protocol from its greeting; the last failure as one
 * line (empty before any). */
const char *ctl_vm_name(const struct ctl_client *c);
int ctl_protocol(const struct ctl_client *c);
const char *ctl_error(const struct ctl_client *c);
/* After -EREMOTEIO from ctl_call: the error class the VM answered
 * ("invalid-argument", "unavailable", ...); ctl_error has its desc. */
const char *ctl_error_class(const struct ctl_client *c);

/* Sends command with args (an object, taken over; NULL for none) and waits
 * up to timeout_ms (-1: forever) for its reply, delivering events and
 * other replies that come first. On success *ret (if not NULL) is the
 * "return" value (the caller's reference) and *fd (if not NULL) the
 * descriptor that came with it or -1. -EREMOTEIO when the VM answered with
 * an error, -ETIMEDOUT, -ECONNRESET when the connection closed, -EPROTO
 * when the VM broke the protocol (the connection is unusable then). Not
 * while another thread runs ctl_read. */
int ctl_call(struct ctl_client *c, const char *command, json_t *args, json_t **ret, int *fd,
	     int timeout_ms);
/* The same, passing pass_fd (not -1) to the worker with the request: its
 * arguments get "fd": true and the descriptor goes as SCM_RIGHTS with the
 * line (pass_fd stays the caller's: the worker gets its own). For what the
 * worker, confined or another user, cannot open itself. */
int ctl_call_fd(struct ctl_client *c, const char *command, json_t *args, int pass_fd,
		json_t **ret, int *fd, int timeout_ms);
/* Sends command with args (taken over) without waiting: its reply goes to
 * handlers->reply. *id (if not NULL) is the request's id. Safe from one
 * thread while another runs ctl_read. */
int ctl_send(struct ctl_client *c, const char *command, json_t *args, long long *id);
/* The same with pass_fd, as ctl_call_fd. */
int ctl_send_fd(struct ctl_client *c, const char *command, json_t *args, int pass_fd,
		long long *id);
/* Waits up to timeout_ms (-1: forever) for data and handles every
 * complete message in it. 1 when something came, 0 on timeout,
 * -ECONNRESET when the VM closed the connection (or ctl_shutdown), -EPROTO
 * on a protocol violation; ctl_error says which. */
int ctl_read(struct ctl_client *c, int timeout_ms);
/* Wakes a thread blocked in ctl_read (it returns -ECONNRESET) and makes
 * further sends fail. Any thread. */
void ctl_shutdown(struct ctl_client *c);

/* One request to the VM named name (or a socket path): connects, sends cmd
 * with args (taken over; NULL for none), returns its "return" value in *ret
 * (the caller's reference; ret may be NULL) and disconnects, all within
 * timeout_ms. -errno as ctl_open and ctl_call give them, with one line in
 * err (-EREMOTEIO: the VM's error desc). For vmstore_info and scripts. */
int ctl_query(const char *name, const char *cmd, json_t *args, json_t **ret, int timeout_ms,
	      char *err, size_t errlen);
/* The same with pass_fd, as ctl_call_fd. */
int ctl_query_fd(const char *name, const char *cmd, json_t *args, int pass_fd, json_t **ret,
		 int timeout_ms, char *err, size_t errlen);

/* The socket's descriptor, for a poll loop that calls ctl_read(c, 0) when
 * it is readable (still owned by c). */
int ctl_fd(const struct ctl_client *c);

#endif
