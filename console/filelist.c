/* The file browser's folder listings: reading, filtering and sorting a
 * folder's entries, resolving typed paths, formatting sizes. */
#include "console/filelist.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

bool filelist_match(const char *name, const char *patterns)
{
	const char *p = patterns;
	char pat[256];

	if (!p || !*p)
		return true;
	while (*p) {
		size_t n;

		while (*p == ' ' || *p == ',')
			p++;
		n = strcspn(p, ",");
		while (n && p[n - 1] == ' ')
			n--;
		if (n && n < sizeof(pat)) {
			memcpy(pat, p, n);
			pat[n] = 0;
			if (fnmatch(pat, name, FNM_CASEFOLD) == 0)
				return true;
		}
		p += strcspn(p, ",");
	}
	/* Only commas and spaces: no pattern at all. */
	return strspn(patterns, ", ") == strlen(patterns);
}

static int entry_cmp(const void *a, const void *b)
{
	const struct file_entry *x = a, *y = b;
	int c;

	if (!strcmp(x->name, "..") != !strcmp(y->name, ".."))
		return strcmp(x->name, "..") ? 1 : -1;
	if (x->dir != y->dir)
		return x->dir ? -1 : 1;
	c = strcasecmp(x->name, y->name);
	return c ? c : strcmp(x->name, y->name);
}

void filelist_sort(struct file_entry *e, unsigned n)
{
	if (n > 1)
		qsort(e, n, sizeof(*e), entry_cmp);
}

void filelist_free(struct file_list *l)
{
	for (unsigned i = 0; i < l->n; i++)
		free(l->e[i].name);
	free(l->e);
	l->e = NULL;
	l->n = 0;
}

static int list_add(struct file_list *l, unsigned *cap, const char *name, bool dir, uint64_t size)
{
	if (l->n == *cap) {
		unsigned ncap = *cap ? *cap * 2 : 64;
		struct file_entry *ne = realloc(l->e, ncap * sizeof(*ne));

		if (!ne)
			return -ENOMEM;
		l->e = ne;
		*cap = ncap;
	}
	l->e[l->n].name = strdup(name);
	if (!l->e[l->n].name)
		return -ENOMEM;
	l->e[l->n].dir = dir;
	l->e[l->n].size = size;
	l->n++;
	return 0;
}

int filelist_read(struct file_list *l, const char *dir, const char *patterns, bool dirs_only,
		  bool hidden)
{
	unsigned cap = 0;
	struct dirent *de;
	DIR *d;
	int fd, ret = 0;

	l->e = NULL;
	l->n = 0;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		ret = -errno;
		close(fd);
		return ret;
	}
	if (strcmp(dir, "/")) {
		ret = list_add(l, &cap, "..", true, 0);
		if (ret)
			goto fail;
	}
	while ((errno = 0, de = readdir(d))) {
		struct stat st;
		bool isdir;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (de->d_name[0] == '.' && !hidden)
			continue;
		/* Links are followed (a link to a folder is a folder); a
		 * broken one is listed as what it is. */
		if (fstatat(fd, de->d_name, &st, 0) &&
		    fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW))
			continue;
		isdir = S_ISDIR(st.st_mode);
		if (!isdir && (dirs_only || !filelist_match(de->d_name, patterns)))
			continue;
		ret = list_add(l, &cap, de->d_name, isdir, isdir ? 0 : (uint64_t)st.st_size);
		if (ret)
			goto fail;
	}
	if (errno) {
		ret = -errno;
		goto fail;
	}
	closedir(d);
	filelist_sort(l->e, l->n);
	return 0;
fail:
	closedir(d);
	filelist_free(l);
	return ret;
}

int filelist_resolve(const char *base, const char *typed, char *out, size_t outlen)
{
	char tmp[4096];
	size_t o = 0;
	const char *p;
	int n;

	if (typed[0] == '~' && (typed[1] == 0 || typed[1] == '/')) {
		const char *home = getenv("HOME");

		if (!home || home[0] != '/')
			return -ENOENT;
		n = snprintf(tmp, sizeof(tmp), "%s/%s", home, typed + 1);
	} else if (typed[0] == '/') {
		n = snprintf(tmp, sizeof(tmp), "%s", typed);
	} else {
		n = snprintf(tmp, sizeof(tmp), "%s/%s", base, typed);
	}
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -ENAMETOOLONG;
	if (outlen < 2)
		return -ENAMETOOLONG;
	/* Fold the parts into out, which always starts with '/'. */
	out[o++] = '/';
	for (p = tmp; *p;) {
		size_t len;

		while (*p == '/')
			p++;
		len = strcspn(p, "/");
		if (!len)
			break;
		if (len == 1 && p[0] == '.') {
			/* nothing */
		} else if (len == 2 && p[0] == '.' && p[1] == '.') {
			while (o > 1 && out[o - 1] != '/')
				o--;
			if (o > 1)
				o--; /* the '/' before the removed part */
		} else {
			if (o > 1) {
				if (o + 1 >= outlen)
					return -ENAMETOOLONG;
				out[o++] = '/';
			}
			if (o + len >= outlen)
				return -ENAMETOOLONG;
			memcpy(out + o, p, len);
			o += len;
		}
		p += len;
	}
	out[o] = 0;
	return 0;
}

int filelist_split(const char *path, char *dir, size_t dirlen, char *name, size_t namelen)
{
	const char *slash = strrchr(path, '/');
	size_t dl;

	if (!slash)
		return -EINVAL;
	dl = slash == path ? 1 : (size_t)(slash - path);
	if (dl >= dirlen || strlen(slash + 1) >= namelen)
		return -ENAMETOOLONG;
	memcpy(dir, path, dl);
	dir[dl] = 0;
	strcpy(name, slash + 1);
	return 0;
}

void filelist_size_str(uint64_t bytes, char *buf, size_t len)
{
	static const char *const unit[] = {"B", "KB", "MB", "GB", "TB", "PB", "EB"};
	unsigned u = 0;
	double v = (double)bytes;

	while (v >= 1024 && u + 1 < sizeof(unit) / sizeof(unit[0])) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
	else if (v < 10 && (v - (int)v) >= 0.05 && v < 9.95)
		snprintf(buf, len, "%.1f %s", v, unit[u]);
	else
		snprintf(buf, len, "%.0f %s", v, unit[u]);
}
