/* From a vmconfig to the settings a worker runs (struct vm_spec), for osio
 * run and osio start: loading, MAC addresses kept in the file, the rules
 * between keys, and where a store VM's consoles go. Every mistake is logged
 * as one message naming the file (and line). */
#ifndef OSIO_CLI_VMLOAD_H
#define OSIO_CLI_VMLOAD_H

#include "hypervisor/vmspec.h"

#include <stdbool.h>
#include <stddef.h>

struct vmconfig;

/* Reads and parses path; NULL after a "FILE:LINE:COL: error: ..." line. */
struct vmconfig *vmload_file(const char *path);

/* Gives every [nic] without a MAC address a new one. persist: the document
 * is the user's file, which keeps them (one info line), or, when it cannot
 * be written, a warning and MACs for this run only. 0, or -errno for an
 * error already logged. */
int vmload_assign_macs(struct vmconfig *cfg, bool persist);

/* The rules between keys, then spec from cfg on top of vm_spec_defaults.
 * file_lines: the document is a file, so messages carry FILE:LINE (a
 * document made from options has no lines worth showing). Also refuses a VM
 * with nothing to boot. 0, or -EINVAL after one message. */
int vmload_spec(const struct vmconfig *cfg, struct vm_spec *spec, bool file_lines);

/* A VM of the store (osio start): its vmconfig (new MACs kept in it), the
 * spec named NAME, and the consoles a detached worker can serve: COM1 on
 * the socket RUNTIME/NAME.serial (osio serial NAME) when the file says stdio
 * or nothing, other ports and the virtio console on stdio on sockets
 * RUNTIME/NAME.comN and RUNTIME/NAME.console; a pty, file or socket the file
 * names stays as it is. sandbox: whether [vm] sandbox (default yes) and
 * $OSIO_SANDBOX (0 turns it off) want the worker confined. 0, or -errno
 * after one message. */
int vmload_store(const char *name, struct vm_spec *spec, bool *sandbox);

/* Writes the disc now in the DVD drive at IDE position pos (controller * 2
 * + location; path "" for none) into the store VM name's vmconfig, as the
 * file of the [dvd] section there, so that the next start has it too. 0, or
 * -errno after one warning (the change then lasts until the VM stops). */
int vmload_set_dvd(const char *name, unsigned pos, const char *path);

/* RUNTIME/NAME.serial, COM1's socket for a store VM. */
int vmload_serial_path(const char *name, char *buf, size_t size);

#endif
