module gsmapper.test/scenarios/workload

go 1.19
