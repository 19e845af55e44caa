/* The per-thread provider of the current exit's registers. */
#include "hypervisor/exitregs.h"

#include <stddef.h>

static _Thread_local const struct exit_regs_provider *provider;

void exit_regs_provide(const struct exit_regs_provider *p)
{
	provider = p;
}

bool exit_regs_get(struct exit_regs *r)
{
	return provider && provider->get && provider->get(provider->opaque, r);
}

bool exit_regs_set(const struct exit_regs *r)
{
	return provider && provider->set && provider->set(provider->opaque, r);
}
