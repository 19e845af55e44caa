/* osio's commands as clients of a VM's worker: connecting by the VM's name
 * with messages that say what state a VM not running is in, requests whose
 * failures become one line, and waiting for the VM to reach a state. */
#ifndef OSIO_CLI_CTLCLIENT_H
#define OSIO_CLI_CTLCLIENT_H

#include <jansson.h>
#include <stdbool.h>

struct ctl_client;

struct vmctl {
	struct ctl_client *c;
	char name[72];
	int pid;		/* the worker's (query-status), 0 if unknown */
	char state[32];		/* the last state seen: query-status, then "state" events */
	int off_status;		/* the status that came with "off", -1 before */
	bool closed;		/* the worker closed the connection */
	char error[512];	/* the last "error" event's message, "" none */
	char error_command[32]; /* the command it concerns, "" none */
	bool guest_shutdown;	/* a "shutdown" event came */
};

/* Connects to the running VM name and reads its state. -errno after one
 * line on stderr: no such VM, or it is not running (and then what it is:
 * Off, Saved, Crashed) and what to do. */
int vmctl_open(const char *name, struct vmctl *v);
void vmctl_close(struct vmctl *v);

/* Sends cmd with args (taken over; NULL for none) and waits up to
 * timeout_ms (-1: forever) for its reply (*ret: the caller's reference,
 * ret may be NULL). -errno after one line on stderr naming the VM. */
int vmctl_call(struct vmctl *v, const char *cmd, json_t *args, json_t **ret, int timeout_ms);
/* The same, passing pass_fd (not -1; still the caller's) with the request
 * as ctl_call_fd does: a file this command opened as its user, for a worker
 * that runs as another user or may not open files. */
int vmctl_call_fd(struct vmctl *v, const char *cmd, json_t *args, int pass_fd, json_t **ret,
		  int timeout_ms);

/* Waits up to timeout_ms until the VM is in state ("off" also when the
 * worker closes the connection) or, when command is not NULL, an "error"
 * event about that command comes. 0, -ETIMEDOUT, -ECANCELED (the error
 * event; v->error says it), -ECONNRESET (the connection closed before the
 * state came). */
int vmctl_wait_state(struct vmctl *v, const char *state, const char *command, int timeout_ms);

/* Waits up to timeout_ms for the worker process pid to be gone. */
int vmctl_wait_gone(int pid, int timeout_ms);

#endif
