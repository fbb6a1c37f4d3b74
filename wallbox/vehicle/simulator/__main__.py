from wallbox.vehicle.simulator.fleet import main

main()
