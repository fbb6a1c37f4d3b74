from wallbox.vehicle.simulator.server import main

main()
