/* Opening /dev/kvm and learning what it offers. */
#include "hypervisor/kvm.h"

#include "hypervisor/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static const struct {
	int cap;
	const char *name;
} required_caps[] = {
	{ KVM_CAP_IRQCHIP, "in-kernel interrupt controllers" },
	{ KVM_CAP_PIT2, "in-kernel PIT" },
	{ KVM_CAP_USER_MEMORY, "user memory slots" },
	{ KVM_CAP_SET_TSS_ADDR, "TSS address" },
	{ KVM_CAP_SET_IDENTITY_MAP_ADDR, "identity map address" },
	{ KVM_CAP_EXT_CPUID, "extended CPUID" },
	{ KVM_CAP_IRQ_ROUTING, "GSI routing" },
	{ KVM_CAP_IMMEDIATE_EXIT, "immediate exit" },
	{ KVM_CAP_MP_STATE, "multiprocessor state" },
};

static bool module_loaded(const char *name)
{
	char path[96];
	snprintf(path, sizeof(path), "/sys/module/%s", name);
	return access(path, F_OK) == 0;
}

const char *kvm_flavour(bool *hardware)
{
	*hardware = false;
	if (module_loaded("kvm_intel")) {
		*hardware = true;
		return "kvm_intel";
	}
	if (module_loaded("kvm_amd")) {
		*hardware = true;
		return "kvm_amd";
	}
	if (module_loaded("kvm_pvm"))
		return "kvm_pvm";
	return "unknown";
}

static const char *kvm_device(void)
{
	const char *dev = getenv("OSIO_KVM_DEVICE");
	return dev && *dev ? dev : "/dev/kvm";
}

/* The one line that says why dev cannot be opened (errno e) and the fix:
 * the text of kvm_check_access and of kvm_host_open's error. */
static void open_error_text(const char *dev, int e, char *buf, size_t len)
{
	switch (e) {
	case ENOENT:
		snprintf(buf, len,
			 KVM_UNAVAILABLE "%s does not exist: load KVM (modprobe kvm_intel or "
					 "kvm_amd) and enable virtualization (VT-x/AMD-V) in the "
					 "firmware setup; inside a VM, its host must offer nested "
					 "virtualization",
			 dev);
		break;
	case EACCES:
	case EPERM:
		snprintf(buf, len,
			 KVM_UNAVAILABLE "no permission to open %s: add your user to the 'kvm' "
					 "group (sudo usermod -aG kvm $USER, then log in again)",
			 dev);
		break;
	case ENXIO:
	case ENODEV:
		snprintf(buf, len,
			 KVM_UNAVAILABLE "%s is present but KVM is not usable: is virtualization "
					 "enabled in the firmware setup, or is another hypervisor "
					 "holding it?",
			 dev);
		break;
	default:
		snprintf(buf, len, KVM_UNAVAILABLE "cannot open %s: %s", dev, strerror(e));
	}
}

static void version_error_text(const char *dev, int version, char *buf, size_t len)
{
	snprintf(buf, len,
		 KVM_UNAVAILABLE "%s speaks KVM API version %d; osio needs version %d (a "
				 "newer host kernel is required)",
		 dev, version, KVM_API_VERSION);
}

int kvm_check_access(char *why, size_t len)
{
	const char *dev = kvm_device();
	char dummy[8];

	if (!why || !len) {
		why = dummy;
		len = sizeof(dummy);
	}
	why[0] = '\0';
	int fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		open_error_text(dev, e, why, len);
		return -e;
	}
	int version = ioctl(fd, KVM_GET_API_VERSION, 0);
	close(fd);
	if (version != KVM_API_VERSION) {
		version_error_text(dev, version, why, len);
		return -EPROTO;
	}
	return 0;
}

static int get_cpuid(struct kvm_host *h)
{
	for (unsigned n = 64; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!c)
			return -ENOMEM;
		c->nent = n;
		if (ioctl(h->fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			h->cpuid = c;
			return 0;
		}
		int e = errno;
		free(c);
		if (e != E2BIG)
			return -e;
	}
	return -E2BIG;
}

static int get_msrs(struct kvm_host *h)
{
	struct kvm_msr_list probe = { .nmsrs = 0 };
	if (ioctl(h->fd, KVM_GET_MSR_INDEX_LIST, &probe) < 0 && errno != E2BIG)
		return -errno;
	struct kvm_msr_list *l = calloc(1, sizeof(*l) + probe.nmsrs * sizeof(l->indices[0]));
	if (!l)
		return -ENOMEM;
	l->nmsrs = probe.nmsrs;
	if (ioctl(h->fd, KVM_GET_MSR_INDEX_LIST, l) < 0) {
		int e = errno;
		free(l);
		return -e;
	}
	h->msrs = l;
	return 0;
}

bool kvm_host_has_msr(const struct kvm_host *h, unsigned index)
{
	for (unsigned i = 0; h->msrs && i < h->msrs->nmsrs; i++)
		if (h->msrs->indices[i] == index)
			return true;
	return false;
}

int kvm_host_open(struct kvm_host *h)
{
	static bool told;
	const char *dev = kvm_device();
	char why[512];
	memset(h, 0, sizeof(*h));
	h->fd = open(dev, O_RDWR | O_CLOEXEC);
	if (h->fd < 0) {
		int e = errno;
		open_error_text(dev, e, why, sizeof(why));
		log_error("%s", why);
		return -e;
	}
	int r = -ENOTSUP;
	int version = ioctl(h->fd, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION) {
		version_error_text(dev, version, why, sizeof(why));
		log_error("%s", why);
		goto fail;
	}
	for (size_t i = 0; i < sizeof(required_caps) / sizeof(required_caps[0]); i++) {
		if (ioctl(h->fd, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0) {
			log_error("this KVM lacks %s (capability %d), which osio needs; a newer host "
				  "kernel is required",
				  required_caps[i].name, required_caps[i].cap);
			goto fail;
		}
	}
	h->vcpu_mmap_size = ioctl(h->fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (h->vcpu_mmap_size <= 0) {
		r = -errno;
		log_error("KVM_GET_VCPU_MMAP_SIZE failed: %s", strerror(errno));
		goto fail;
	}
	int max = ioctl(h->fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	int rec = ioctl(h->fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	h->recommended_vcpus = rec > 0 ? (unsigned)rec : 4;
	h->max_vcpus = max > 0 ? (unsigned)max : h->recommended_vcpus;
	if ((r = get_cpuid(h)) < 0) {
		log_error("KVM_GET_SUPPORTED_CPUID failed: %s", strerror(-r));
		goto fail;
	}
	if ((r = get_msrs(h)) < 0) {
		log_error("KVM_GET_MSR_INDEX_LIST failed: %s", strerror(-r));
		goto fail;
	}
	h->flavour = kvm_flavour(&h->hardware);
	if (!h->hardware && !told) {
		told = true;
		log_info("note: %s is %s, without hardware virtualization: guest firmware and kernel "
			 "code is emulated and runs slowly (test programs and firmware work; a stock "
			 "Linux kernel will not boot in useful time)",
			 dev, strcmp(h->flavour, "unknown") ? h->flavour : "a KVM of unknown kind");
	}
	return 0;
fail:
	kvm_host_close(h);
	return r;
}

void kvm_host_close(struct kvm_host *h)
{
	if (h->fd > 0)
		close(h->fd);
	free(h->cpuid);
	free(h->msrs);
	memset(h, 0, sizeof(*h));
	h->fd = -1;
}
