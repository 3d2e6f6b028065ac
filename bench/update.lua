-- wrk script for POST /update (acme-dns API) with keep-alive.
-- Reads "username key subdomain" lines from the file named by the
-- environment variable BENCH_CREDS; each thread cycles through its own
-- share of the accounts, sending a new 43-character value every time.
local threads = {}
local counter = 0

function setup(thread)
	thread:set("tid", counter)
	counter = counter + 1
	table.insert(threads, thread)
end

function init(args)
	creds = {}
	for line in io.lines(os.getenv("BENCH_CREDS")) do
		local u, k, s = line:match("(%S+) (%S+) (%S+)")
		if u then
			table.insert(creds, {u, k, s})
		end
	end
	n = 0
	-- Threads use disjoint accounts: thread t takes every nthreads-th one.
	nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
	prefix = string.format("w%02d%08x", tid, os.time() % 0x7fffffff)
	statuses = {}
end

function request()
	n = n + 1
	local c = creds[((n * nthreads + tid) % #creds) + 1]
	local v = string.format("%s%030d", prefix, n)   -- 11 + 30 = 41
	v = v .. "AA"
	local body = '{"subdomain": "' .. c[3] .. '", "txt": "' .. v .. '"}'
	return wrk.format("POST", "/update",
		{["X-Api-User"] = c[1], ["X-Api-Key"] = c[2],
		 ["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
	statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
	io.write(string.format("BENCH {\"requests\": %d, \"seconds\": %.3f, \"rps\": %.1f, " ..
		"\"errors_status\": %d, \"errors_socket\": %d, " ..
		"\"p50_ms\": %.3f, \"p90_ms\": %.3f, \"p99_ms\": %.3f, \"max_ms\": %.3f}\n",
		summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
		summary.errors.status, summary.errors.connect + summary.errors.read +
		summary.errors.write + summary.errors.timeout,
		latency:percentile(50) / 1000, latency:percentile(90) / 1000,
		latency:percentile(99) / 1000, latency.max / 1000))
end
