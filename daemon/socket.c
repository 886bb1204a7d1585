/* socket.c: the listening socket file (mode, group, stale files) and peer credential checks. */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/util.h"

static int
socket_addr(const char *path, struct sockaddr_un *sa, struct cv_error *err)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (path[0] == '\0' ||
	    cv_strlcpy(sa->sun_path, path, sizeof(sa->sun_path)) >= sizeof(sa->sun_path)) {
		cv_error_set(err, "socket path \"%s\" is empty or longer than %zu bytes", path,
		             sizeof(sa->sun_path) - 1);
		return -1;
	}
	return 0;
}

/* Removes a socket file left by a daemon that is gone; refuses to steal a live one. */
static int
remove_stale(const char *path, const struct sockaddr_un *sa, struct cv_error *err)
{
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0
		                       : (cv_error_set(err, "%s: %s", path, strerror(errno)), -1);
	if (!S_ISSOCK(st.st_mode)) {
		cv_error_set(err, "%s exists and is not a socket", path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		cv_error_set(err, "socket: %s", strerror(errno));
		return -1;
	}
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (rc == 0) {
		cv_error_set(err, "%s: another daemon is listening on it", path);
		return -1;
	}
	if (errno != ECONNREFUSED) {
		cv_error_set(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	cv_log_notice("removing stale socket %s", path);
	if (unlink(path) != 0 && errno != ENOENT) {
		cv_error_set(err, "unlink %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* getgrnam_r with a buffer that grows as needed; *buf is malloc'd (free it also on failure). */
static struct group *
lookup_group(const char *name, struct group *gr, char **buf)
{
	size_t size = 1024;
	struct group *res = NULL;

	for (;;) {
		char *grown = realloc(*buf, size);
		int rc;

		if (grown == NULL)
			return NULL;
		*buf = grown;
		rc = getgrnam_r(name, gr, *buf, size, &res);
		if (rc != ERANGE || size >= (1u << 20))
			return rc == 0 ? res : NULL;
		size *= 4;
	}
}

static struct passwd *
lookup_user(uid_t uid, struct passwd *pw, char **buf)
{
	size_t size = 1024;
	struct passwd *res = NULL;

	for (;;) {
		char *grown = realloc(*buf, size);
		int rc;

		if (grown == NULL)
			return NULL;
		*buf = grown;
		rc = getpwuid_r(uid, pw, *buf, size, &res);
		if (rc != ERANGE || size >= (1u << 20))
			return rc == 0 ? res : NULL;
		size *= 4;
	}
}

int
cv_server_bind(const struct cv_server_opts *opts, struct cv_error *err)
{
	struct sockaddr_un sa;
	mode_t old_mask;
	int fd = -1, rc;

	if (socket_addr(opts->socket_path, &sa, err) != 0 ||
	    remove_stale(opts->socket_path, &sa, err) != 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		cv_error_set(err, "socket: %s", strerror(errno));
		goto fail;
	}
	/* Never let the socket exist with wider permissions than configured. */
	old_mask = umask(~(mode_t)opts->socket_mode & 0777);
	rc = bind(fd, (const struct sockaddr *)&sa, sizeof(sa));
	umask(old_mask);
	if (rc != 0) {
		cv_error_set(err, "bind %s: %s", opts->socket_path, strerror(errno));
		goto fail;
	}
	if (chmod(opts->socket_path, opts->socket_mode & 07777) != 0) {
		cv_error_set(err, "chmod %s: %s", opts->socket_path, strerror(errno));
		goto fail_unlink;
	}
	if (opts->socket_group != NULL && opts->socket_group[0] != '\0') {
		struct group gr, *res;
		char *buf = NULL;

		res = lookup_group(opts->socket_group, &gr, &buf);
		if (res == NULL)
			cv_log_warning("admin group \"%s\" does not exist", opts->socket_group);
		else if (chown(opts->socket_path, (uid_t)-1, res->gr_gid) != 0)
			cv_log_warning("chown %s to group %s: %s", opts->socket_path,
			               opts->socket_group, strerror(errno));
		free(buf);
	}
	if (listen(fd, SOMAXCONN) != 0) {
		cv_error_set(err, "listen %s: %s", opts->socket_path, strerror(errno));
		goto fail_unlink;
	}
	return fd;
fail_unlink:
	unlink(opts->socket_path);
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

bool
cv_server_peer_is_admin(uid_t uid, gid_t gid, const char *group)
{
	struct group gr, *grp;
	struct passwd pw, *pwp;
	char *grbuf = NULL, *pwbuf = NULL;
	gid_t *groups = NULL;
	int n = 32;
	bool admin = false;

	if (uid == 0 || uid == geteuid())
		return true;
	if (group == NULL || group[0] == '\0')
		return false;
	grp = lookup_group(group, &gr, &grbuf);
	if (grp == NULL)
		goto done;
	if (gid == grp->gr_gid) {
		admin = true;
		goto done;
	}
	pwp = lookup_user(uid, &pw, &pwbuf);
	if (pwp == NULL)
		goto done;
	for (int tries = 0; tries < 4; tries++) {
		gid_t *grown = realloc(groups, (size_t)n * sizeof(*groups));
		int want = n;

		if (grown == NULL)
			goto done;
		groups = grown;
		if (getgrouplist(pwp->pw_name, pwp->pw_gid, groups, &want) >= 0) {
			for (int i = 0; i < want; i++)
				admin = admin || groups[i] == grp->gr_gid;
			break;
		}
		n = want > n ? want : n * 2;
	}
done:
	free(groups);
	free(grbuf);
	free(pwbuf);
	return admin;
}
