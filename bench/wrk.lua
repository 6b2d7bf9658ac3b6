-- wrk script for bench/run.sh.
--
-- Every run loads this script so that done() prints one machine-readable
-- line (the "BENCH" line) with exact counters instead of wrk's rounded,
-- unit-suffixed summary. With BENCH_POST_BODY naming a file, requests are
-- POSTs of that file's bytes as a SOAP call (the small-POST case).

local body_file = os.getenv("BENCH_POST_BODY")

if body_file ~= nil and body_file ~= "" then
	local f = assert(io.open(body_file, "rb"))
	wrk.body = f:read("*a")
	f:close()
	wrk.method = "POST"
	wrk.headers["Content-Type"] = "text/xml; charset=utf-8"
	wrk.headers["SOAPAction"] = '"http://www.microsoft.com/' ..
	    'SoftwareDistribution/Server/ClientWebService/GetCookie"'
end

function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
	    "BENCH requests=%d bytes=%d duration_us=%d connect=%d read=%d " ..
	    "write=%d status=%d timeout=%d p50_us=%d p99_us=%d\n",
	    summary.requests, summary.bytes, summary.duration, e.connect,
	    e.read, e.write, e.status, e.timeout, latency:percentile(50),
	    latency:percentile(99)))
end
