/* The control socket's lifecycle commands (share/doc/control-api.md): stop,
 * shutdown, reset, pause, resume, save, dvd-insert, dvd-eject and stats. */
#ifndef OSIO_CONTROL_VM_H
#define OSIO_CONTROL_VM_H

struct control;
struct worker;

/* Registers the commands for the worker's VM (before control_run). Their
 * state is freed with ctl. */
void control_vm_register(struct control *ctl, struct worker *w);

#endif
