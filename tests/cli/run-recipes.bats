#!/usr/bin/env bats
# fdpass(1)'s recipes: real servers Debian packages, each handed the stored
# socket by fdpass run and restarted three times by SIGHUP under a load
# without a connection refused or reset. A test skips when its server is
# not installed (./bootstrap installs lighttpd, nginx and python3-gunicorn).

load helpers
load run-helpers

setup() {
	run_setup
	mkdir "$TMP/www"
	echo "hello from fdpass run" >"$TMP/www/index.html"
	LOAD_PATH=/index.html
}

teardown() {
	run_teardown
}

@test "lighttpd serves the stored socket with server.systemd-socket-activation, restarted by SIGHUP" {
	command -v lighttpd >/dev/null || skip "lighttpd is not installed"
	cat >"$TMP/lighttpd.conf" <<-EOF
	server.document-root = "$TMP/www"
	server.bind = "127.0.0.1"
	server.port = $PORT
	server.systemd-socket-activation = "enable"
	server.errorlog = "$TMP/lighttpd.log"
	EOF
	start_run --ready=1 --stop-signal INT web -- lighttpd -D -f "$TMP/lighttpd.conf"
	restarts_under_load 3 10000 "hello from fdpass run"
}

@test "nginx serves the stored socket at fd 3 named by NGINX=3;, stopped with SIGQUIT" {
	command -v nginx >/dev/null || skip "nginx is not installed"
	# Started by root, nginx's worker runs as nobody and reads the page.
	chmod 755 "$TMP" "$TMP/www"
	mkdir "$TMP/nginx"
	cat >"$TMP/nginx.conf" <<-EOF
	daemon off;
	master_process on;
	worker_processes 1;
	pid $TMP/nginx/nginx.pid;
	error_log $TMP/nginx/error.log;
	events { worker_connections 64; }
	http {
		access_log off;
		client_body_temp_path $TMP/nginx/body;
		proxy_temp_path $TMP/nginx/proxy;
		fastcgi_temp_path $TMP/nginx/fastcgi;
		uwsgi_temp_path $TMP/nginx/uwsgi;
		scgi_temp_path $TMP/nginx/scgi;
		server {
			listen 127.0.0.1:$PORT;
			root $TMP/www;
		}
	}
	EOF
	start_run --ready=1 --stop-signal QUIT --fd 3=web -E 'NGINX=3;' -- \
	    nginx -c "$TMP/nginx.conf"
	restarts_under_load 3 10000 "hello from fdpass run"
	run grep -c 'using inherited sockets from "3;"' "$TMP/run.log"
	assert_output 4
}

@test "gunicorn (python3 -m gunicorn) takes LISTEN_FDS and says READY=1, restarted by SIGHUP" {
	/usr/bin/python3 -c 'import gunicorn' 2>/dev/null || skip "python3-gunicorn is not installed"
	cat >"$TMP/app.py" <<-'EOF'
	def app(environ, start_response):
	    start_response("200 OK", [("Content-Type", "text/plain")])
	    return [b"hello from fdpass run\n"]
	EOF
	start_run --ready=notify web -- /usr/bin/python3 -m gunicorn --chdir "$TMP" -w 2 app:app
	restarts_under_load 3 10000 "hello from fdpass run"
}
