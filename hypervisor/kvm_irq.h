/* The KVM side of hypervisor/msi.h: GSI routing (the PC's PIC and IOAPIC
 * pins plus one MSI entry per route), KVM_SIGNAL_MSI, KVM_IRQFD and
 * KVM_IOEVENTFD for a partition, with the slow paths where KVM lacks them. */
#ifndef OSIO_KVM_IRQ_H
#define OSIO_KVM_IRQ_H

#include "hypervisor/partition.h"

/* Sets the partition's GSI routing and becomes the machine's MSI backend
 * (which installs every route and ioeventfd the devices registered).
 * -errno when the routing cannot be set. OSIO_KVM_IRQ_OFF=irqfd,ioeventfd,
 * signal_msi in the environment makes it act as if KVM lacked those (for
 * testing the slow paths). */
int kvm_irq_attach(struct partition *p);
/* Stops being the backend; before the VM's fd is closed. */
void kvm_irq_detach(struct partition *p);

#endif
