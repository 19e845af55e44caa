/* The pty character backend: a new pseudo-terminal whose slave side a
 * terminal program (screen, minicom, picocom) opens. */
#define CHARDEV_INTERNAL
#include "devices/chardev.h"

#include "hypervisor/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

int chardev_pty_open(struct chardev *c)
{
	int master, slave, r;
	const char *step = "posix_openpt";

	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		goto err;
	step = "grantpt";
	if (grantpt(master) < 0)
		goto err_master;
	step = "unlockpt";
	if (unlockpt(master) < 0)
		goto err_master;
	step = "ptsname";
	r = ptsname_r(master, c->path, sizeof(c->path));
	if (r) {
		errno = r;
		goto err_master;
	}
	step = c->path;
	/* Holding the slave open keeps the pty alive while no one is
	 * attached: output is kept instead of failing with EIO. */
	slave = open(c->path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		goto err_master;
	struct termios t;
	if (tcgetattr(slave, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(slave, TCSANOW, &t);
	}
	int fl = fcntl(master, F_GETFL);
	if (fl < 0 || fcntl(master, F_SETFL, fl | O_NONBLOCK) < 0) {
		step = "fcntl";
		close(slave);
		goto err_master;
	}
	c->in_fd = c->out_fd = master;
	c->in_poll = c->out_poll = true;
	c->pty_slave = slave;
	log_info("%s is %s", c->port, c->path);
	return 0;

err_master:
	r = errno;
	close(master);
	errno = r;
err:
	r = errno;
	log_error("%s: cannot create a pseudo-terminal (%s: %s)", c->port, step, strerror(r));
	return -r;
}
