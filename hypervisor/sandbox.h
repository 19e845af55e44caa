/* Confining a worker once its VM is set up: no new privileges, a user of
 * its own when started as root, and a seccomp filter (libseccomp) that
 * allows only the system calls a running worker makes; anything else kills
 * the worker with SIGSYS. */
#ifndef OSIO_SANDBOX_H
#define OSIO_SANDBOX_H

#include <stddef.h>
#include <sys/types.h>

/* The user a worker started as root becomes when it exists. */
#define SANDBOX_DEFAULT_USER "osio"

enum sandbox_seccomp {
	/* A call outside the allow list kills the worker with SIGSYS. */
	SANDBOX_SECCOMP_KILL,
	/* The same, after one line on stderr naming the call and its first
	 * arguments (a SIGSYS handler): for finding what a new feature needs. */
	SANDBOX_SECCOMP_LOG,
	/* No filter (no_new_privs and the user drop still happen). */
	SANDBOX_SECCOMP_OFF,
};

struct sandbox_options {
	/* As root: the user to become. NULL: SANDBOX_DEFAULT_USER when it
	 * exists, else stay root with one warning saying how to create it.
	 * A name: that user, which must exist. "": stay root. Ignored when
	 * the worker does not run as root. */
	const char *user;
	/* The VM's folder (STORE/vms/NAME), given to that user with all it
	 * holds before the drop, so that the worker can still write its saved
	 * state, checkpoints and new disks there; the store's folders above it
	 * get search permission for others (o+x) so that the user reaches it.
	 * NULL: none (osio run). */
	const char *vm_dir;
	/* The filter's mode; OSIO_SECCOMP in the environment overrides it:
	 * "0" or "off", "log", "1" or "kill". */
	enum sandbox_seccomp seccomp;
};

/* Applies everything, to every thread of the process: 0, or -errno with
 * err naming what failed (the worker must then not run the VM).
 *
 * Call it once, from any thread, when everything that needs privileges or
 * calls outside the allow list is done: after the devices, the control
 * socket, the VNC server and the network ports are set up and listening,
 * and before the first vCPU runs guest code. Threads that exist already
 * get the filter too (SECCOMP_FILTER_FLAG_TSYNC); threads created later
 * inherit it. Files opened before stay usable whatever the new user. */
int sandbox_enter(const struct sandbox_options *opt, char *err, size_t errlen);

/* Who sandbox_enter(opt) will make the worker: 1 with *uid and *gid when it
 * gives up root for that user, 0 when it stays who it is, -errno with err
 * set for a user named in opt that does not exist. For what is set up
 * before the drop and must stay reachable after it (a private switch's
 * directory and socket: give them to *uid). */
int sandbox_target_user(const struct sandbox_options *opt, uid_t *uid, gid_t *gid, char *err,
			size_t errlen);

#endif
