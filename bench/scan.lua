-- wrk script for bench/scan.sh: POSTs SyncUpdates bodies from the files
-- in BENCH_BODIES (a directory of files named 000000, 000001, ...),
-- round robin, and prints one machine-readable line like wrk.lua.

local dir = assert(os.getenv("BENCH_BODIES"))
local bodies = {}
local next_i = 1
local path = "/ClientWebService/client.asmx"
local headers = {
	["Content-Type"] = "text/xml; charset=utf-8",
	["SOAPAction"] = '"http://www.microsoft.com/SoftwareDistribution/' ..
	    'Server/ClientWebService/SyncUpdates"',
}

function init(args)
	local i = 0
	while true do
		local f = io.open(string.format("%s/%06d", dir, i), "rb")
		if f == nil then break end
		bodies[#bodies + 1] = wrk.format("POST", path, headers,
		    f:read("*a"))
		f:close()
		i = i + 1
	end
	assert(#bodies > 0, "no bodies in " .. dir)
	-- Threads start at different places in the list.
	next_i = (math.random(#bodies) - 1) % #bodies + 1
end

function request()
	local r = bodies[next_i]
	next_i = next_i % #bodies + 1
	return r
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
