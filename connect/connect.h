/* osio connect: a VM's screen in an SDL window, with its keyboard and mouse. */
#ifndef OSIO_CONNECT_CONNECT_H
#define OSIO_CONNECT_CONNECT_H

/* Shows the VM named name_or_path (a name or a control socket path) until
 * the window is closed or the VM powers off (0) or the connection breaks or
 * cannot be made (1, with one line on stderr saying why). */
int connect_run(const char *name_or_path);

#endif
