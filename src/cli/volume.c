#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/volume.h"
#include "image/rootfs.h"
#include "util/cleanup.h"

#define VOLUMES_DIR "volumes"

bool volume_name_valid(const char *name)
{
        size_t n = strlen(name);
        if (n == 0 || n > VOLUME_NAME_MAX)
                return false;
        for (size_t i = 0; i < n; i++) {
                char ch = name[i];
                bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
                if (!alnum && (i == 0 || (ch != '_' && ch != '.' && ch != '-')))
                        return false;
        }
        return true;
}

static int check_name(const char *name, struct herror *err)
{
        if (!volume_name_valid(name))
                return herror_set(err, EINVAL,
                                  "volume name \"%.64s\": use letters, digits, '_', '.', '-', starting "
                                  "with a letter or digit, at most %d bytes",
                                  name, VOLUME_NAME_MAX);
        return 0;
}

static int open_volumes(struct image_store *s, bool create, struct herror *err)
{
        if (create && mkdirat(s->rootfd, VOLUMES_DIR, 0700) < 0 && errno != EEXIST)
                return herror_sys(err, errno, "%s/%s", s->path, VOLUMES_DIR);
        int fd = openat(s->rootfd, VOLUMES_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? -ENOENT : herror_sys(err, errno, "%s/%s", s->path, VOLUMES_DIR);
        return fd;
}

static int data_path(struct image_store *s, const char *name, char **ret, struct herror *err)
{
        if (ret && asprintf(ret, "%s/%s/%s/_data", s->path, VOLUMES_DIR, name) < 0)
                return herror_set(err, ENOMEM, "out of memory");
        return 0;
}

int volume_path(struct image_store *s, const char *name, char **ret_path, struct herror *err)
{
        int r = check_name(name, err);
        if (r < 0)
                return r;
        _cleanup_close_ int vfd = open_volumes(s, false, err);
        if (vfd == -ENOENT)
                return herror_set(err, ENOENT, "no volume named %s", name);
        if (vfd < 0)
                return vfd;
        char sub[VOLUME_NAME_MAX + 8];
        snprintf(sub, sizeof sub, "%s/_data", name);
        struct stat st;
        if (fstatat(vfd, sub, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? herror_set(err, ENOENT, "no volume named %s", name)
                                       : herror_sys(err, errno, "volume %s", name);
        if (!S_ISDIR(st.st_mode))
                return herror_set(err, ENOTDIR, "volume %s: %s/%s/%s is not a directory", name, s->path, VOLUMES_DIR,
                                  sub);
        return data_path(s, name, ret_path, err);
}

int volume_create(struct image_store *s, const char *name, bool exist_ok, char **ret_path, struct herror *err)
{
        int r = check_name(name, err);
        if (r < 0)
                return r;
        _cleanup_close_ int vfd = open_volumes(s, true, err);
        if (vfd < 0)
                return vfd;
        /* The volume appears complete or not at all: _data is made in a temp dir renamed into place. */
        char tmp[VOLUME_NAME_MAX + 16];
        snprintf(tmp, sizeof tmp, ".tmp-%s", name);
        unlinkat(vfd, tmp, AT_REMOVEDIR);
        char sub[VOLUME_NAME_MAX + 24];
        snprintf(sub, sizeof sub, "%s/_data", tmp);
        if (mkdirat(vfd, tmp, 0700) < 0 || mkdirat(vfd, sub, 0755) < 0)
                return herror_sys(err, errno, "create volume %s", name);
        if (renameat2(vfd, tmp, vfd, name, RENAME_NOREPLACE) < 0) {
                int e = errno;
                snprintf(sub, sizeof sub, "%s/_data", tmp);
                unlinkat(vfd, sub, AT_REMOVEDIR);
                unlinkat(vfd, tmp, AT_REMOVEDIR);
                if (e == EEXIST && exist_ok)
                        return volume_path(s, name, ret_path, err);
                if (e == EEXIST)
                        return herror_set(err, EEXIST, "volume %s already exists", name);
                return herror_sys(err, e, "create volume %s", name);
        }
        return data_path(s, name, ret_path, err);
}

int volume_remove(struct image_store *s, const char *name, struct herror *err)
{
        int r = volume_path(s, name, NULL, err);
        if (r < 0)
                return r;
        _cleanup_close_ int vfd = open_volumes(s, false, err);
        if (vfd < 0)
                return vfd;
        /* Renamed away first: a half-removed volume is never found under its name again. */
        char gone[VOLUME_NAME_MAX + 16];
        snprintf(gone, sizeof gone, ".rm-%s", name);
        if (renameat(vfd, name, vfd, gone) < 0)
                return herror_sys(err, errno, "remove volume %s", name);
        /* files a container made as another uid belong to subordinate ids: removed from inside a namespace */
        r = rootfs_remove_tree_at(vfd, gone, err);
        return r < 0 ? herror_wrap(err, "volume %s", name) : 0;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int volume_list(struct image_store *s, char ***ret, size_t *ret_n, struct herror *err)
{
        _cleanup_strv_ char **v = calloc(1, sizeof *v);
        size_t n = 0;
        if (!v)
                return herror_set(err, ENOMEM, "out of memory");
        int vfd = open_volumes(s, false, err);
        if (vfd < 0 && vfd != -ENOENT)
                return vfd;
        DIR *d = vfd >= 0 ? fdopendir(vfd) : NULL;
        if (vfd >= 0 && !d) {
                close(vfd);
                return herror_sys(err, errno, "%s/%s", s->path, VOLUMES_DIR);
        }
        struct dirent *de;
        int r = 0;
        while (r == 0 && d && (de = readdir(d)))
                /* skips ".", "..", and the .tmp-* / .rm-* of creations and removals in progress */
                if (volume_name_valid(de->d_name) && (r = strv_push(&v, de->d_name)) == 0)
                        n++;
        if (d)
                closedir(d);
        if (r < 0)
                return herror_set(err, ENOMEM, "out of memory");
        qsort(v, n, sizeof *v, cmp_str);
        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}
