/* The worker's control socket: newline-delimited JSON requests, replies and
 * events on a Unix socket in the runtime directory, served by a thread of
 * its own (share/doc/control-api.md is the protocol). Commands are
 * registered by the parts of the worker that implement them. */
#ifndef OSIO_CONTROL_H
#define OSIO_CONTROL_H

#include <jansson.h>
#include <stdbool.h>

struct control;
struct control_client;
struct display_surface;
struct machine;

#define CONTROL_PROTOCOL 2

/* What a command handler answers. On success it may set ret (an object or
 * any JSON value, taken over; NULL means {}) and fd (sent with the reply,
 * taken over; -1 for none). On failure it returns control_fail's value. */
struct control_reply {
	json_t *ret;
	int fd;
};

/* Runs in the control thread. args is the request's "arguments" object
 * (an empty one when there were none), borrowed. */
typedef int (*control_cmd_fn)(struct control_client *c, json_t *args, struct control_reply *reply,
			      void *opaque);

/* Error classes. */
#define CONTROL_E_INVALID     "invalid-argument"
#define CONTROL_E_UNAVAILABLE "unavailable"
#define CONTROL_E_FAILED      "failed"

/* Listens at path (created with mode 0600; a dead worker's socket there is
 * replaced, a live one's is -EADDRINUSE with a warning naming it). The
 * thread starts at control_run. Create it once m's devices exist: the
 * network commands find the adapters here. */
int control_new(struct machine *m, const char *path, const char *vm_name, struct control **out);
/* Commands, before control_run. name is kept (a string literal). */
void control_register(struct control *ctl, const char *name, control_cmd_fn fn, void *opaque);
/* Starts serving. */
int control_run(struct control *ctl);
/* Sends "state" events to everyone, also recorded for query-status (which
 * the control core answers itself, from control_set_status too). Any
 * thread. status is sent with "off" only. */
void control_set_state(struct control *ctl, const char *state, int status);
/* A field of query-status's answer (value taken over; NULL removes it).
 * Any thread. */
void control_set_status(struct control *ctl, const char *key, json_t *value);
/* Sends an event to every client (data taken over). Any thread. */
void control_emit(struct control *ctl, const char *event, json_t *data);
/* Flushes what clients are owed (best effort), disconnects them, joins the
 * thread, removes the socket if it is still ours. NULL is fine. */
void control_free(struct control *ctl);

/* --- for command handlers (control thread) ----------------------------- */

/* Fills reply-less failure: returns a negative value to return from the
 * handler. */
int control_fail(struct control_client *c, const char *cls, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The descriptor that came with the running request (its arguments say
 * "fd": true), now the caller's; -1 when there is none or it was taken.
 * One the handler does not take is closed after it. */
int control_take_fd(struct control_client *c);
struct machine *control_machine(struct control_client *c);
struct control *control_of(struct control_client *c);
/* Sends an event to this client only (data taken over, fd too: -1 none).
 * Returns -EAGAIN when the client has not read what it was sent before and
 * the event was not queued (data and fd are released then). */
int control_send_event(struct control_client *c, const char *event, json_t *data, int fd);
/* Whether nothing is waiting to be written to this client. */
bool control_client_idle(const struct control_client *c);

/* Per-client state a module keeps (one slot per module, by key): set with
 * a destructor called when the client goes. */
void *control_client_get(struct control_client *c, const void *key);
void control_client_set(struct control_client *c, const void *key, void *data,
			void (*destroy)(struct control_client *c, void *data));
/* (Replacing a slot's data does not destroy the old data.) */
/* The control thread's loop (timers for modules), and a call made at
 * control_free after the thread has ended. */
struct evloop *control_loop(struct control *ctl);
void control_on_free(struct control *ctl, void (*fn)(void *), void *opaque);
/* Calls fn(c, opaque) for every connected client (control thread). */
void control_for_each_client(struct control *ctl,
			     void (*fn)(struct control_client *c, void *opaque), void *opaque);

/* Network commands (nics, nic-connect, nic-disconnect) and "nic-link"
 * events, for the adapters m has when it is called (m may be NULL: none).
 * control_new registers them. */
void control_net_register(struct control *ctl, struct machine *m);

/* Command sets: input (send-key, input-key, input-pointer) and display
 * (display-attach/-detach, screenshot; s may be NULL: no display). */
void control_input_register(struct control *ctl);
int control_display_register(struct control *ctl, struct display_surface *s);

#endif
